"""Tests of fastbp._sparse and the sparse products of fastbp._gemm: sparse
training data is trained on as it is, with the dense path's results."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from fastbp import _gemm
from fastbp._gemm import matmul, matvec, sparse_matmul, sparse_matmul_transposed
from fastbp._inputs import SPARSE_MAX_DENSITY, network_input
from fastbp._sparse import kernel_input

from conftest import assert_same_weights, assert_weights_close

DTYPES = [np.float32, np.float64]
# Short fits, on purpose.
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


def _sparse(n, depth, density, dtype, seed=0):
    """A CSR matrix with rows of every length (empty ones too), explicit
    zeros among its stored values, and negative values."""
    X = sp.random(n, depth, density=density, random_state=seed, format="csr",
                  data_rvs=np.random.default_rng(seed).standard_normal)  # fmt: skip
    X = X.astype(dtype)
    if X.nnz:
        X.data[:: max(1, X.nnz // 5)] = 0.0  # stored zeros
    return X


def _one_hot(estimator, n, seed=0):
    """Adult-like data: two numeric columns and three one-hot blocks (with
    many unused categories: 5 of 88 entries stored, so that fits keep it
    sparse, even with every entry stored twice), and the estimator's
    targets of a function of them."""
    rng = np.random.default_rng(seed)
    blocks = [rng.standard_normal((n, 2))]
    for width in (5, 9, 4):
        blocks.append(np.eye(width + 22)[rng.integers(0, width, n)])
    X = np.hstack(blocks)
    assert 2 * 5 <= SPARSE_MAX_DENSITY * X.shape[1]  # trained sparse
    target = X @ rng.standard_normal(X.shape[1]) + 0.3 * rng.standard_normal(n)
    return X, estimator.targets(target)


def _trained_sparse(X):
    """Whether a fit keeps ``X`` sparse (else it is made dense)."""
    return sp.issparse(network_input(X))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m", [1, 5, 16, 17, 40, 64, 130])
def test_sparse_products_give_the_dense_products_bits(dtype, m):
    """X[rows] @ R and X[rows].T @ D: the dense layer's sums (matmul's;
    matvec's for one column), bit for bit on the SIMD path, for every
    column count (one vector or several, masked last vector, several
    chunks), rows taken in any order."""
    X = _sparse(60, 23, 0.2, dtype)
    rows = np.random.default_rng(1).permutation(60)[:37].astype(np.int64)
    rng = np.random.default_rng(2)
    R = rng.standard_normal((23, m)).astype(dtype)
    D = rng.standard_normal((37, m)).astype(dtype)
    dense = X[rows].toarray()
    values, indices, indptr = kernel_input(X)

    C = np.full((37, m), np.nan, dtype)
    sparse_matmul(values, indices, indptr, rows, R, C)
    G = np.full((23, m), np.nan, dtype)
    sparse_matmul_transposed(values, indices, indptr, rows, D, G)

    expected_C, expected_G = np.empty_like(C), np.empty_like(G)
    # A one-unit layer's forward pass is a matrix-vector product (by lanes).
    (matvec if m == 1 else matmul)(dense, R, expected_C)
    matmul(dense.T, D, expected_G)
    reference = dense.astype(np.float64)
    tol = 30 * np.finfo(dtype).eps
    assert_allclose(C, reference @ R, rtol=tol, atol=tol)
    assert_allclose(G, reference.T @ D, rtol=tol, atol=tol)
    if _gemm.SIMD:
        assert_array_equal(C, expected_C)
        assert_array_equal(G, expected_G)


def test_sparse_products_of_empty_rows_are_zero():
    X = sp.csr_matrix((4, 6))
    values, indices, indptr = kernel_input(X)
    rows = np.arange(4, dtype=np.int64)
    C = np.full((4, 20), np.nan)
    sparse_matmul(values, indices, indptr, rows, np.ones((6, 20)), C)
    G = np.full((6, 20), np.nan)
    sparse_matmul_transposed(values, indices, indptr, rows, np.ones((4, 20)), G)
    assert_array_equal(C, 0.0)
    assert_array_equal(G, 0.0)


def test_network_input_keeps_only_sparse_enough_data_sparse():
    sparse = _sparse(100, 40, SPARSE_MAX_DENSITY * 0.8, np.float64)
    dense_enough = _sparse(100, 40, min(1.0, SPARSE_MAX_DENSITY * 2), np.float64)
    assert sp.issparse(network_input(sparse))
    assert network_input(sparse.tocsc()).format == "csr"
    assert isinstance(network_input(dense_enough), np.ndarray)
    assert_array_equal(network_input(dense_enough), dense_enough.toarray())
    X = np.ones((3, 2))
    assert network_input(X) is X


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("hidden", [(16,), (12, 7), (1,), (1, 5), ()])
def test_sparse_fit_equals_dense_fit(estimator, dtype, solver, hidden):
    """Trained on the sparse matrix or on its dense copy: the same weights,
    bit for bit (the SIMD path), and the same predictions, whatever the
    first layer's width (one unit, or no hidden layer: one output)."""
    X, y = _one_hot(estimator, 300)
    X = X.astype(dtype)
    Xs = sp.csr_matrix(X)
    assert _trained_sparse(Xs)
    kw = dict(solver=solver, max_iter=8, random_state=0, tol=0, batch_size=64)
    sparse_model = estimator.cls(hidden, **kw).fit(Xs, y)
    dense_model = estimator.cls(hidden, **kw).fit(X, y)
    assert sparse_model.coefs_[0].dtype == dtype
    if _gemm.SIMD:
        assert_same_weights(sparse_model, dense_model)
    else:
        assert_weights_close(sparse_model, dense_model, rtol=1e-4, atol=1e-5)
    out = getattr(sparse_model, estimator.outputs)
    assert_allclose(out(Xs), getattr(dense_model, estimator.outputs)(X),
                    rtol=1e-5, atol=1e-6)  # fmt: skip


def test_sparse_fit_with_early_stopping_and_weights(estimator):
    """Early stopping (the held-out part scored densely) and sample weights,
    on sparse data: as on its dense copy."""
    X, y = _one_hot(estimator, 400, seed=3)
    w = np.random.default_rng(4).uniform(0.2, 2.0, 400)
    kw = dict(early_stopping=True, max_iter=15, random_state=0, n_iter_no_change=3)
    assert _trained_sparse(sp.csr_matrix(X))
    a = estimator.cls((10,), **kw).fit(sp.csr_matrix(X), y, sample_weight=w)
    b = estimator.cls((10,), **kw).fit(X, y, sample_weight=w)
    assert a.validation_scores_ == b.validation_scores_
    assert a.n_iter_ == b.n_iter_
    assert_weights_close(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_sparse_fit_matches_scikit_learn(estimator, solver):
    """scikit-learn's MLP on the same sparse matrix: the same weights."""
    X, y = _one_hot(estimator, 250, seed=5)
    Xs = sp.csr_matrix(X)
    assert _trained_sparse(Xs)
    kw = dict(solver=solver, max_iter=10, random_state=0, tol=0)
    ours = estimator.cls((9,), **kw).fit(Xs, y)
    theirs = estimator.sklearn_cls(hidden_layer_sizes=(9,), **kw).fit(Xs, y)
    rtol = 1e-6 if solver == "lbfgs" else 1e-9
    assert_weights_close(ours, theirs, rtol=rtol, atol=1e-10)


def test_non_canonical_sparse_input_is_summed_and_left_unchanged(estimator):
    """Unsorted column indices and duplicate entries (which a CSR matrix
    adds up): trained on their sums; the caller's matrix is not modified."""
    X, y = _one_hot(estimator, 200, seed=6)
    coo = sp.coo_matrix(X)
    # Each stored value split in two halves, listed in reverse order.
    rows = np.concatenate([coo.row, coo.row])[::-1]
    cols = np.concatenate([coo.col, coo.col])[::-1]
    vals = np.concatenate([coo.data / 2, coo.data / 2])[::-1]
    messy = sp.csr_matrix(
        (vals[np.argsort(rows, kind="stable")], cols[np.argsort(rows, kind="stable")],
         np.searchsorted(np.sort(rows), np.arange(201))), shape=X.shape,
    )  # fmt: skip
    assert not messy.has_canonical_format and _trained_sparse(messy)
    before = (messy.data.copy(), messy.indices.copy(), messy.indptr.copy())
    kw = dict(max_iter=5, random_state=0, tol=0)
    a = estimator.cls((8,), **kw).fit(messy, y)
    b = estimator.cls((8,), **kw).fit(sp.csr_matrix(messy.toarray()), y)
    assert_same_weights(a, b)
    for stored, kept in zip((messy.data, messy.indices, messy.indptr), before):
        assert_array_equal(stored, kept)


@pytest.mark.parametrize("fmt", ["csc", "coo", "lil"])
def test_other_sparse_formats_train_as_csr(estimator, fmt):
    X, y = _one_hot(estimator, 150, seed=7)
    kw = dict(max_iter=4, random_state=0, tol=0)
    assert _trained_sparse(sp.csr_matrix(X).asformat(fmt))
    a = estimator.cls((6,), **kw).fit(sp.csr_matrix(X).asformat(fmt), y)
    b = estimator.cls((6,), **kw).fit(sp.csr_matrix(X), y)
    assert_same_weights(a, b)


def test_sparse_partial_fit_step_for_step(estimator):
    X, y = _one_hot(estimator, 300, seed=8)
    Xs = sp.csr_matrix(X)
    assert _trained_sparse(Xs[:120])
    extra = estimator.partial_fit_params(y)
    a = estimator.cls((7,), random_state=0)
    b = estimator.cls((7,), random_state=0)
    for part in (slice(0, 120), slice(120, 300)):
        a.partial_fit(Xs[part], y[part], **extra)
        b.partial_fit(X[part], y[part], **extra)
    if _gemm.SIMD:
        assert_same_weights(a, b)
    else:
        assert_weights_close(a, b, rtol=1e-9, atol=1e-12)


def test_sparse_predictions_equal_dense_predictions(estimator):
    """predict (and predict_proba) on the sparse matrix: the dense copy's
    outputs, bit for bit on the SIMD path, without making it dense."""
    X, y = _one_hot(estimator, 500, seed=9)
    model = estimator.cls((12, 5), max_iter=6, random_state=0, tol=0).fit(X, y)
    assert _trained_sparse(sp.csr_matrix(X))
    outputs = getattr(model, estimator.outputs)
    sparse, dense = outputs(sp.csr_matrix(X)), outputs(X)
    if _gemm.SIMD:
        assert_array_equal(sparse, dense)
    else:
        assert_allclose(sparse, dense, rtol=1e-12, atol=1e-14)
    assert_array_equal(model.predict(sp.csr_matrix(X)), model.predict(X))


def test_data_too_large_to_make_dense_trains_and_predicts_sparse(estimator):
    """A bag-of-words-sized X (its dense copy would take 1.6 GB, beyond
    MAX_DENSE_BYTES) trains, with early stopping, and predicts as it is."""
    rng = np.random.default_rng(10)
    n, n_features = 2000, 100_000
    columns = rng.integers(0, n_features, (n, 3))
    X = sp.csr_matrix((np.ones(3 * n), (np.repeat(np.arange(n), 3), columns.ravel())),
                      shape=(n, n_features))  # fmt: skip
    target = (columns[:, 0] % 7).astype(float) + rng.standard_normal(n)
    y = estimator.targets(target)
    kw = dict(max_iter=3, random_state=0, early_stopping=True)
    model = estimator.cls((4,), **kw).fit(X, y)
    assert model.coefs_[0].shape == (n_features, 4)
    outputs = getattr(model, estimator.outputs)(X[:50])
    assert np.isfinite(outputs).all()
    assert_allclose(outputs, getattr(model, estimator.outputs)(X[:50].toarray()),
                    rtol=1e-12, atol=1e-14)  # fmt: skip


def test_complex_sparse_input_is_refused_with_a_short_message(estimator):
    X = sp.random(40, 30, density=0.05, random_state=0, format="csr") * (1 + 1j)
    y = estimator.targets(np.arange(40.0))
    with pytest.raises(ValueError, match="Complex data not supported") as error:
        estimator.cls((3,), max_iter=2).fit(X, y)
    assert len(str(error.value)) < 200


def test_wide_sparse_predictions_are_not_cut_into_row_blocks(monkeypatch, estimator):
    """An X that stays sparse is never made dense: predicted whole, however
    large its dense copy would be."""
    import fastbp._inputs as inputs

    X, y = _one_hot(estimator, 300, seed=11)
    model = estimator.cls((6,), max_iter=3, random_state=0, tol=0).fit(X, y)
    Xs = sp.csr_matrix(X)
    expected = getattr(model, estimator.outputs)(Xs)
    monkeypatch.setattr(inputs, "MAX_DENSE_BYTES", 64)  # a few rows' worth
    assert len(list(inputs.dense_row_blocks(Xs, np.float64))) == 1
    assert_array_equal(getattr(model, estimator.outputs)(Xs), expected)


def test_explain_step_takes_a_sparse_batch(estimator):
    from fastbp import explain_step

    X, y = _one_hot(estimator, 60, seed=12)
    model = estimator.cls((4,), max_iter=2, random_state=0, tol=0).fit(X, y)
    dense, sparse = explain_step(model, X[:3], y[:3]), explain_step(
        model, sp.csr_matrix(X[:3]), y[:3]
    )
    assert str(dense) == str(sparse)
