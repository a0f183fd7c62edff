"""What users pass as X, y and sample_weight: memory layouts, number types,
containers, sparse matrices, strings, and values far out of range. Each kind
is compared with the same data as a C-contiguous float64 array.

The base validates input for both estimators: most tests run for each (the
``estimator`` fixture, with string labels as the classifier's targets);
numeric targets are the regressor's alone.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from conftest import (
    ESTIMATORS,
    assert_same_weights,
    assert_weights_close,
    make_data,
    sine_plus_linear,
    weights,
    with_value,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import fastbp._inputs
from fastbp import BackpropRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

PARAMS = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0)

X, Y = make_data(40, 3, sine_plus_linear)


@pytest.fixture
def y(estimator):
    """The estimator's targets of X."""
    return estimator.targets(Y)


@pytest.fixture
def reference(estimator, y):
    """The estimator trained on the C-contiguous float64 X."""
    return estimator.cls(**PARAMS).fit(X, y)


# ---------------------------------------------------------- memory layouts


def strided(array):
    """A view of ``array`` with every other element of a larger array."""
    holder = np.zeros(
        (array.shape[0], 2 * array.shape[1]) if array.ndim == 2 else 2 * array.size,
        dtype=array.dtype,
    )
    view = holder[:, ::2] if array.ndim == 2 else holder[::2]
    view[...] = array
    return view


def read_only(array):
    array = array.copy()
    array.flags.writeable = False
    return array


LAYOUTS = {
    "fortran": np.asfortranarray,
    "strided": strided,
    "read-only": read_only,
    "reversed rows": lambda a: a[::-1].copy()[::-1],
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_memory_layouts_train_and_predict_identically(estimator, y, layout):
    """Fortran-ordered, strided, read-only and negatively strided X, y and
    sample_weight give the weights and predictions of C-contiguous arrays."""
    to_layout = LAYOUTS[layout]
    w = np.linspace(0.5, 2.0, len(X))
    reference = estimator.cls(**PARAMS).fit(X, y, w)
    model = estimator.cls(**PARAMS).fit(to_layout(X), to_layout(y), to_layout(w))
    assert_same_weights(model, reference)
    assert_array_equal(model.predict(to_layout(X)), reference.predict(X))


def test_memory_mapped_arrays_train_and_predict_identically(
    estimator, y, reference, tmp_path
):
    """np.memmap and np.load(mmap_mode='r') arrays (read-only) work as arrays."""
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    X_map = np.load(tmp_path / "X.npy", mmap_mode="r")
    y_map = np.load(tmp_path / "y.npy", mmap_mode="r")
    assert isinstance(X_map, np.memmap) and not X_map.flags.writeable
    model = estimator.cls(**PARAMS).fit(X_map, y_map)
    assert_same_weights(model, reference)
    assert_array_equal(model.predict(X_map), reference.predict(X))
    writable = np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="w+", shape=X.shape)
    writable[:] = X
    assert_array_equal(reference.predict(writable), reference.predict(X))


# ------------------------------------------------------- types and containers

GRID = np.round(X * 4)  # values that int, bool and float16 hold exactly
KINDS = {
    "int8": lambda a: a.astype(np.int8),
    "int64": lambda a: a.astype(np.int64),
    "uint16": lambda a: np.abs(a).astype(np.uint16),
    "bool": lambda a: a > 0,
    "float16": lambda a: a.astype(np.float16),
    "list": lambda a: a.tolist(),
    "object": lambda a: a.astype(object),
    "object of numpy scalars": lambda a: np.array(
        [[np.float32(v) for v in row] for row in a], dtype=object
    ),
    "DataFrame": lambda a: pd.DataFrame(a),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_number_types_and_containers_train_as_float64(estimator, y, kind):
    """Integers, booleans, float16, lists, object arrays of numbers and data
    frames train (in float64) exactly as the float64 array of their values."""
    converted = KINDS[kind](GRID)
    values = np.asarray(pd.DataFrame(converted), dtype=np.float64)
    reference = estimator.cls(**PARAMS).fit(values, y)
    model = estimator.cls(**PARAMS).fit(converted, y)
    assert_same_weights(model, reference)
    assert_array_equal(model.predict(converted), reference.predict(values))


@pytest.mark.parametrize("kind", ["int64", "bool", "float16", "list", "object"])
def test_target_types_train_as_float64(kind):
    targets = KINDS[kind](np.round(Y * 4))
    reference = BackpropRegressor(**PARAMS).fit(X, np.asarray(targets, dtype=float))
    assert_same_weights(BackpropRegressor(**PARAMS).fit(X, targets), reference)


def test_sample_weight_types_are_their_values(estimator, y):
    weights = np.arange(len(X)) % 3 + 1
    reference = estimator.cls(**PARAMS).fit(X, y, weights.astype(float))
    for kind in (weights, weights.tolist(), weights.astype(object), pd.Series(weights)):
        assert_same_weights(estimator.cls(**PARAMS).fit(X, y, kind), reference)


# ------------------------------------------------------------------- sparse

SPARSE_FORMATS = ["csr", "csc", "coo", "lil", "dok", "bsr", "dia"]


@pytest.mark.parametrize("container", [scipy.sparse.csr_matrix, scipy.sparse.csr_array])
@pytest.mark.parametrize("fmt", SPARSE_FORMATS)
def test_sparse_input_trains_and_predicts_as_its_dense_array(
    estimator, y, fmt, container
):
    """Sparse X (every SciPy format, matrix or array) is made dense: the same
    weights and predictions as the dense array; float32 stays float32."""
    X_sparse = container(np.where(np.abs(X) > 0.5, X, 0.0)).asformat(fmt)
    dense = X_sparse.toarray()
    reference = estimator.cls(**PARAMS).fit(dense, y)
    model = estimator.cls(**PARAMS).fit(X_sparse, y)
    assert_same_weights(model, reference)
    assert_array_equal(model.predict(X_sparse), reference.predict(dense))
    model32 = estimator.cls(**PARAMS).fit(X_sparse.astype(np.float32), y)
    assert model32.coefs_[0].dtype == np.float32
    outputs32 = getattr(model32, estimator.outputs)(X_sparse.astype(np.float32))
    assert outputs32.dtype == np.float32


def test_sparse_targets_are_made_dense():
    Y2 = np.c_[Y, -Y]
    reference = BackpropRegressor(**PARAMS).fit(X, Y2)
    assert_same_weights(
        BackpropRegressor(**PARAMS).fit(X, scipy.sparse.csr_matrix(Y2)), reference
    )


def test_sparse_input_beyond_the_memory_limit_is_refused_at_fit(
    estimator, y, monkeypatch
):
    """Beyond MAX_DENSE_BYTES the dense copy for training is refused, naming
    its size and the ways out; predict goes through it by row blocks."""
    monkeypatch.setattr(fastbp._inputs, "MAX_DENSE_BYTES", X.size * 8 - 1)
    with pytest.raises(ValueError, match=re.escape("(40, 3)") + ".*MiB.*partial_fit"):
        estimator.cls(**PARAMS).fit(scipy.sparse.csr_matrix(X), y)
    model = estimator.cls(**PARAMS).fit(scipy.sparse.csr_matrix(X[:20]), y[:20])
    assert model.n_features_in_ == 3  # a smaller one is still accepted


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_input_beyond_the_memory_limit_is_predicted_by_row_blocks(
    estimator, reference, monkeypatch, fmt
):
    monkeypatch.setattr(fastbp._inputs, "MAX_DENSE_BYTES", 7 * 3 * 8)  # 7 rows
    X_sparse = scipy.sparse.csr_matrix(np.where(X > 0, X, 0.0)).asformat(fmt)
    for method in dict.fromkeys(["predict", estimator.outputs]):
        predict = getattr(reference, method)
        assert_array_equal(predict(X_sparse), predict(X_sparse.toarray()))


def test_pandas_sparse_columns_are_made_dense(estimator, y):
    """A data frame with pandas' sparse columns trains and predicts as its
    dense twin, and keeps its column names."""
    dense = pd.DataFrame(np.where(X > 0, X, 0.0), columns=["a", "b", "c"])
    sparse = dense.astype(
        {"a": pd.SparseDtype(float, 0.0), "c": pd.SparseDtype(float, 0.0)}
    )
    model = estimator.cls(**PARAMS).fit(sparse, y)
    reference = estimator.cls(**PARAMS).fit(dense, y)
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    assert_array_equal(model.predict(sparse), reference.predict(dense))


def test_one_hot_pipeline_matches_its_dense_twin(estimator):
    """OneHotEncoder's default (sparse) output feeds the estimator directly,
    as it feeds scikit-learn's MLP estimators; the tags say sparse is accepted
    (scikit-learn's estimator checks then test sparse input of every kind)."""
    rng = np.random.RandomState(0)
    categories = rng.randint(0, 5, size=(60, 2))
    y = estimator.targets(categories[:, 0] - 0.5 * categories[:, 1])
    sparse = make_pipeline(OneHotEncoder(), estimator.cls(**PARAMS)).fit(categories, y)
    dense = make_pipeline(
        OneHotEncoder(sparse_output=False), estimator.cls(**PARAMS)
    ).fit(categories, y)
    assert_array_equal(sparse.predict(categories), dense.predict(categories))
    assert estimator.cls().__sklearn_tags__().input_tags.sparse


# ------------------------------------------------------------------ targets


@pytest.mark.parametrize(
    "targets",
    [
        ["low", "high"] * 20,
        np.array(["1.5"] * 40),  # numeric strings too: a conversion is the user's
        np.array([b"1"] * 40),
        np.array(["a"] * 39 + [1.0], dtype=object),
        pd.Series(["a", "b"] * 20, dtype="string"),
    ],
    ids=["words", "numeric strings", "bytes", "object", "pandas strings"],
)
def test_string_targets_raise_a_value_error_saying_so(targets):
    """scikit-learn's MLPRegressor raises a TypeError from deep inside; here
    a ValueError says that a regressor needs numbers."""
    with pytest.raises(ValueError, match="y holds strings.*numeric targets"):
        BackpropRegressor(**PARAMS).fit(X, targets)


@pytest.mark.parametrize(
    "targets, message",
    [
        (np.r_[Y[:-1], np.nan], "NaN"),
        (np.array([*Y[:-1], None], dtype=object), "NaN"),
        (pd.array([1] * 39 + [None], dtype="Int64"), "NaN"),
    ],
    ids=["NaN", "None in object", "pandas NA"],
)
def test_missing_numeric_targets_raise_value_errors(targets, message):
    with pytest.raises(ValueError, match=message):
        BackpropRegressor(**PARAMS).fit(X, targets)


@pytest.mark.parametrize(
    "take, message",
    [
        (lambda y: None, "requires y to be passed"),
        (lambda y: y[:-1], "inconsistent numbers of samples"),
    ],
    ids=["None", "wrong length"],
)
def test_no_targets_or_too_few_raise_value_errors(estimator, y, take, message):
    with pytest.raises(ValueError, match=message):
        estimator.cls(**PARAMS).fit(X, take(y))


# ---------------------------------------------------------------- bad X


BAD_X = {  # X that training refuses: the message says why
    "NaN": (with_value(X, (3, 1), np.nan), "NaN"),
    "inf": (with_value(X, (3, 1), np.inf), "infinity"),
    "no rows": (X[:0], "0 sample"),
    "1-D": (X[:, 0], "2D array"),
    "3-D": (X[:, :, None], "dim"),
    "complex": (X + 1j, "[Cc]omplex"),
    "strings": (np.full((40, 3), "a"), "float"),
}


@pytest.mark.parametrize("bad", sorted(BAD_X))
def test_bad_training_data_raises_value_error(estimator, y, bad):
    X_bad, message = BAD_X[bad]
    with pytest.raises(ValueError, match=message):
        estimator.cls((3,), max_iter=2).fit(X_bad, y[: len(X_bad)])


@pytest.mark.parametrize(
    "X_bad, message",
    [
        (X[:, :2], "2 features"),
        (with_value(X, (0, 0), np.nan), "NaN"),
        (X[:, 0], "2D array"),
    ],
    ids=["other number of features", "NaN", "1-D"],
)
def test_bad_predict_input_raises_value_error(estimator, reference, X_bad, message):
    with pytest.raises(ValueError, match=message):
        reference.predict(X_bad)


# ------------------------------------------------------------ sample_weight


@pytest.mark.parametrize(
    "sample_weight, message",
    [
        (np.zeros(40), "non-zero"),
        (np.r_[np.inf, np.ones(39)], "infinity"),
        (np.ones((40, 1)), "1D"),
        (["a"] * 40, "sample_weight holds strings"),
        (np.r_[np.ones(39), np.nan], "NaN"),
        (np.r_[np.ones(39), -1e-9], "[Nn]egative"),
        (np.ones(41), "shape"),
    ],
    ids=["all zeros", "inf", "2-D", "strings", "NaN", "negative", "wrong length"],
)
def test_bad_sample_weight_raises_value_error(estimator, y, sample_weight, message):
    with pytest.raises(ValueError, match=message):
        estimator.cls(**PARAMS).fit(X, y, sample_weight)


def test_float32_overflow_of_weights_is_named(estimator, y):
    """float32 X trains in float32: a sample_weight beyond its range is
    refused, instead of silently becoming inf."""
    X32 = X.astype(np.float32)
    with pytest.raises(ValueError, match="sample_weight.*too large.*float32"):
        estimator.cls(**PARAMS).fit(X32, y, np.full(40, 1e39))


def test_float32_overflow_of_targets_is_named():
    X32 = X.astype(np.float32)
    with pytest.raises(ValueError, match="y contains.*too large for float32"):
        BackpropRegressor(**PARAMS).fit(X32, Y * 1e39)


# -------------------------------------------------------------- huge values

SCALES = [1e10, 1e20, 1e50, 1e100, 1e150, 1e200, 1e300]


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize(
    "name, where",
    [("regressor", "X"), ("regressor", "y"), ("classifier", "X")],
    ids=["regressor-X", "regressor-y", "classifier-X"],  # labels do not scale
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_huge_values_end_finite_or_in_a_value_error(solver, name, where, dtype):
    """At every scale up to 1e300, a fit either ends with a finite loss,
    finite weights and finite (or loudly warned) predictions, or raises a
    ValueError that says what happened, with finite weights kept. Never a
    silent inf or NaN."""
    estimator = ESTIMATORS[name]
    outcomes = set()
    for scale in SCALES:
        X_s, y_s = (X * scale, Y) if where == "X" else (X, Y * scale)
        if dtype == np.float32:
            X_s = np.clip(X_s, -1e38, 1e38)  # float32's range
        model = estimator.cls(**PARAMS, solver=solver)
        try:
            model.fit(X_s.astype(dtype), estimator.targets(y_s))
        except ValueError as error:
            assert re.search("diverged|too large", str(error)), error
            outcomes.add("error")
        else:
            assert np.isfinite(model.loss_) and np.isfinite(model.loss_curve_).all()
            outcomes.add("fit")
        if hasattr(model, "coefs_"):
            assert all(np.isfinite(a).all() for a in weights(model))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                P = getattr(model, estimator.outputs)(X_s.astype(dtype))
            if not np.isfinite(P).all():
                assert any("not finite" in str(w.message) for w in caught)
    if "error" not in outcomes:
        # The largest scales are out of reach of a squared error and of plain
        # gradient steps; Adam's steps stay bounded, and so does the log loss
        # of a softmax: there the classifier fits them, as MLPClassifier does.
        assert (name, solver, dtype) == ("classifier", "adam", np.float64)
        with np.errstate(over="ignore"):  # in scikit-learn's Adam
            sklearn_model = estimator.sklearn_cls(**PARAMS, solver=solver)
            sklearn_model.fit(X_s, estimator.targets(y_s))
        assert_allclose(model.loss_curve_, sklearn_model.loss_curve_, rtol=1e-9)
        assert_weights_close(model, sklearn_model, rtol=1e-9, atol=0)


def test_predicting_far_beyond_the_training_range_warns(estimator, reference):
    """Rows whose predictions overflow produce a RuntimeWarning that counts
    them; the other rows are predicted as usual."""
    outputs = getattr(reference, estimator.outputs)
    X_far = X.copy()
    X_far[[3, 7]] = 1.7e308
    with pytest.warns(RuntimeWarning, match="2 of 40 predictions are not finite"):
        P = outputs(X_far)
    assert not np.isfinite(P[[3, 7]]).any()
    keep = np.setdiff1d(np.arange(40), [3, 7])
    assert_array_equal(P[keep], outputs(X[keep]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outputs(X * 1e300)  # finite, however large: no warning


@pytest.mark.parametrize(
    "X_text",
    [
        X.astype(str),  # numeric strings: NumPy would parse them silently
        X.astype(str).astype(object),
        X.astype(bytes),
        pd.DataFrame({"a": X[:, 0], "b": X[:, 1].astype(str), "c": X[:, 2]}),
    ],
    ids=["str", "object", "bytes", "frame column"],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit", "predict"])
def test_strings_in_X_raise_a_value_error_saying_so(estimator, y, X_text, method):
    model = estimator.cls(**PARAMS)
    if method == "predict":
        model.fit(X, y)
        call = lambda: model.predict(X_text)  # noqa: E731
    elif method == "partial_fit":
        fit_params = estimator.partial_fit_params(y)
        call = lambda: model.partial_fit(X_text, y, **fit_params)  # noqa: E731
    else:
        call = lambda: model.fit(X_text, y)  # noqa: E731
    with pytest.raises(ValueError, match="X holds strings"):
        call()


@pytest.mark.parametrize("container", [scipy.sparse.csr_matrix, scipy.sparse.csr_array])
def test_complex_sparse_input_is_refused_like_dense(estimator, y, reference, container):
    X_complex = container(X + 1j)
    with pytest.raises(ValueError, match="Complex data not supported"):
        estimator.cls(**PARAMS).fit(X_complex, y)
    with pytest.raises(ValueError, match="Complex data not supported"):
        reference.predict(X_complex)


def test_weights_too_small_to_divide_by_are_refused(estimator, y):
    """Weights summing below the smallest normal number would make the loss
    infinite; the error says so instead of reporting a divergence."""
    with pytest.raises(ValueError, match="sample_weight sums to.*scale the weights"):
        estimator.cls(**PARAMS).fit(X, y, np.full(40, 1e-320))


def test_early_stopping_with_all_zero_weights_on_one_side_is_refused(estimator, y):
    weights = np.r_[1.0, np.zeros(39)]
    model = estimator.cls(**PARAMS, early_stopping=True, validation_fraction=0.5)
    with pytest.raises(ValueError, match="weights of the (validation|training) part"):
        model.fit(X, y, weights)


def test_score_of_overflowing_predictions_is_minus_inf_without_warnings():
    model = BackpropRegressor(**PARAMS).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy overflow warning
        assert model.score(X * 1e300, Y) == -np.inf
        assert model.score(X, Y) == pytest.approx(
            1 - np.sum((Y - model.predict(X)) ** 2) / np.sum((Y - Y.mean()) ** 2)
        )


class _FrameWithListDtypes:
    """A data frame that is not pandas' (as polars'): dtypes is a list."""

    def __init__(self, array, columns):
        self._array, self.columns, self.shape = array, columns, array.shape
        self.dtypes = [array.dtype] * array.shape[1]

    def __array__(self, dtype=None, copy=None):
        return self._array if dtype is None else self._array.astype(dtype)

    def __len__(self):
        return self.shape[0]


def test_other_data_frames_are_read_as_arrays(estimator, y, reference):
    frame = _FrameWithListDtypes(X, ["a", "b", "c"])
    model = estimator.cls(**PARAMS).fit(frame, y)
    assert_array_equal(model.predict(frame), reference.predict(X))
    with pytest.raises(ValueError, match="X holds strings"):
        estimator.cls(**PARAMS).fit(
            _FrameWithListDtypes(X.astype(str), ["a", "b", "c"]), y
        )


def test_pandas_sparse_frame_beyond_the_limit_is_predicted_by_row_blocks(
    estimator, y, monkeypatch
):
    dense = pd.DataFrame(np.where(X > 0, X, 0.0), columns=["a", "b", "c"])
    sparse = dense.astype(pd.SparseDtype(float, 0.0))
    model = estimator.cls(**PARAMS).fit(dense, y)
    monkeypatch.setattr(fastbp._inputs, "MAX_DENSE_BYTES", 7 * 3 * 8)  # 7 rows
    for method in dict.fromkeys(["predict", estimator.outputs]):
        predict = getattr(model, method)
        assert_array_equal(predict(sparse), predict(dense))


def test_predict_by_row_blocks_runs_a_subclass_override_once(
    estimator, y, reference, monkeypatch
):
    class Marked(estimator.cls):
        def predict(self, X):
            return ("marked", super().predict(X))

    model = Marked(**PARAMS).fit(X, y)
    monkeypatch.setattr(fastbp._inputs, "MAX_DENSE_BYTES", 7 * 3 * 8)
    mark, predictions = model.predict(scipy.sparse.csr_matrix(X))
    assert mark == "marked"
    assert_array_equal(predictions, reference.predict(X))
