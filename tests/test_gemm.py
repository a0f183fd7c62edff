"""Tests of fastbp._gemm: the order of every sum, each tile, the BLAS path."""

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from fastbp import _gemm
from fastbp._activations import (
    IDENTITY,
    RELU,
    add_bias_and_activate,
    multiply_by_derivative,
)
from fastbp._gemm import (
    column_sums,
    matmul,
    matmul_bias,
    matmul_panels,
    matmul_panels_relu_derivative,
    matmul_transposed,
    matvec,
    matvec_transposed,
    pack_transposed,
    simd_shape,
)

DTYPES = [np.float32, np.float64]
ROOT = Path(__file__).resolve().parents[1]
# Shapes with every kind of edge: rows not a multiple of any tile's, columns
# not a multiple of a vector (float64: 8, float32: 16), several vectors and
# several column tiles, a single row, no terms at all.
SHAPES = [(7, 13, 19), (200, 16, 16), (13, 33, 70), (1, 5, 40), (25, 3, 1),
          (4, 0, 9), (6, 64, 10)]  # fmt: skip


def _in_order(L, R):
    """``L @ R`` in float64, each element ``fma(L[i, k], R[k, j], acc)`` for
    k = 0, 1, ... from 0: exact rational arithmetic, rounded once a term."""
    n, depth = L.shape
    C = np.zeros((n, R.shape[1]))
    for i in range(n):
        for j in range(R.shape[1]):
            acc = 0.0
            for k in range(depth):
                acc = float(Fraction(L[i, k]) * Fraction(R[k, j]) + Fraction(acc))
            C[i, j] = acc
    return C


def _operands(n, depth, m, dtype, seed=0):
    rng = np.random.default_rng(seed)
    L = rng.standard_normal((n, depth)).astype(dtype)
    R = rng.standard_normal((depth, m)).astype(dtype)
    return L, R


@pytest.mark.parametrize("shape", [(7, 13, 19), (13, 9, 33), (1, 4, 1)])
def test_matmul_sums_each_element_in_order_with_fused_multiply_adds(shape):
    """float64: bit for bit the sum over k in order, one rounding per term."""
    L, R = _operands(*shape, np.float64)
    C = np.full((shape[0], shape[2]), np.nan)
    matmul(L, R, C)
    if _gemm.SIMD:
        np.testing.assert_array_equal(C, _in_order(L, R))
    else:
        np.testing.assert_allclose(C, _in_order(L, R), rtol=1e-13)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_matmul_matches_numpy(dtype, shape):
    """L @ R, L.T-style strided views and transposed products, every edge."""
    n, depth, m = shape
    L, R = _operands(n, depth, m, dtype)
    rtol = 4 * depth * np.finfo(dtype).eps
    reference = L.astype(np.float64) @ R.astype(np.float64)
    scale = max(np.abs(reference).max(initial=0.0), 1.0)
    C = np.full((n, m), np.nan, dtype=dtype)
    matmul(L, R, C)
    np.testing.assert_allclose(C, reference, rtol=0, atol=rtol * scale)
    # A strided left operand (the weight gradient's A.T), into a view.
    out = np.full((depth + 2, m), np.nan, dtype=dtype)
    G = np.random.default_rng(1).standard_normal((n, m)).astype(dtype)
    matmul(L.T, G, out[1:-1])
    expected = L.T.astype(np.float64) @ G.astype(np.float64)
    atol = 4 * n * np.finfo(dtype).eps * max(np.abs(expected).max(initial=0.0), 1.0)
    np.testing.assert_allclose(out[1:-1], expected, rtol=0, atol=atol)
    assert np.isnan(out[0]).all() and np.isnan(out[-1]).all()  # nothing else written
    # L @ W.T through the scratch: the same bits as matmul on W.T's copy.
    W = np.ascontiguousarray(R.T)
    scratch = np.full((W.shape[0] + 64) * W.shape[1], np.nan, dtype=dtype)
    D = np.full((n, m), np.nan, dtype=dtype)
    matmul_transposed(L, W, scratch, D)
    np.testing.assert_array_equal(D, C)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, depth", [(200, 16), (13, 37), (7, 3), (1, 100), (5, 0), (40, 1030)])
def test_one_column_products(dtype, n, depth):
    """A one-unit layer's products: A @ w (dot products) and A.T @ d (one
    row through the tiles, summed over the rows in order)."""
    rng = np.random.default_rng(4)
    A = rng.standard_normal((n, depth)).astype(dtype)
    w = rng.standard_normal((depth, 1)).astype(dtype)
    d = rng.standard_normal((n, 1)).astype(dtype)
    eps = np.finfo(dtype).eps
    out = np.full((n, 1), np.nan, dtype=dtype)
    matvec(A, w, out)
    expected = A.astype(np.float64) @ w.astype(np.float64)
    scale = np.abs(A).astype(np.float64) @ np.abs(w).astype(np.float64)
    np.testing.assert_array_less(np.abs(out - expected), 2 * depth * eps * scale + 1e-300)
    back = np.full((depth, 1), np.nan, dtype=dtype)
    matvec_transposed(A, d, back)
    if _gemm.SIMD and dtype == np.float64 and n * depth <= 2000:
        np.testing.assert_array_equal(back, _in_order(d.T, A).T)
    expected = A.T.astype(np.float64) @ d.astype(np.float64)
    scale = np.abs(A.T).astype(np.float64) @ np.abs(d).astype(np.float64)
    np.testing.assert_array_less(np.abs(back - expected), 2 * n * eps * scale + 1e-300)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (3, 40), (17, 33), (70, 64), (130, 5)])
@pytest.mark.parametrize("width", [8, 32])
def test_pack_transposed(dtype, shape, width):
    """W.T in panels of ``width`` columns: the panel of columns j0.. is the
    contiguous (W.shape[1], width) block at j0 * W.shape[1]; packing a range
    writes that range's panels only."""
    W = np.random.default_rng(2).standard_normal(shape).astype(dtype)
    rows, depth = shape
    panels = np.full((rows + width) * depth, np.nan, dtype=dtype)
    middle = width if rows > 2 * width else 0  # pack [middle, rows) first
    pack_transposed(W, panels, middle, rows, width)
    assert np.isnan(panels[: middle * depth]).all()
    pack_transposed(W, panels, 0, middle, width)
    for j0 in range(0, rows, width):
        columns = min(width, rows - j0)
        panel = panels[j0 * depth : (j0 + width) * depth].reshape(depth, width)
        np.testing.assert_array_equal(panel[:, :columns], W[j0 : j0 + columns].T)


def test_non_finite_values_propagate():
    """inf and NaN reach the output as in any product (a diverging fit must
    see them)."""
    L, R = _operands(6, 5, 20, np.float64)
    L[2, 3] = np.inf
    R[1, 7] = np.nan
    C = np.empty((6, 20))
    matmul(L, R, C)
    assert np.isnan(C[:, 7]).all()
    assert np.isinf(C[2, np.arange(20) != 7]).all()
    assert np.isfinite(np.delete(np.delete(C, 2, 0), 7, 1)).all()


@pytest.mark.parametrize(
    "features, expected",
    [
        ("+sse2,+avx,+avx2,+fma,+avx512f,+avx512bw", _gemm.TILES["avx512"]),
        ("+sse2,+avx,+avx2,+fma,-avx512f", _gemm.TILES["avx2"]),
        ("+sse2,+avx,+avx2,-fma", None),  # no FMA instruction: BLAS
        ("+sse2,+sse4.2", None),
        ("+neon,+fp-armv8", _gemm.TILES["avx2"]),
    ],
)
def test_simd_shape_follows_cpu_features(features, expected):
    assert simd_shape(features, "auto") == expected


def test_simd_shape_forced_and_refused():
    assert simd_shape("+sse2", "avx512") == _gemm.TILES["avx512"]
    assert simd_shape("+avx512f,+fma", "blas") is None
    with pytest.raises(ValueError, match="FASTBP_KERNELS"):
        simd_shape("+sse2", "fast")


@pytest.mark.skipif(not _gemm.SIMD, reason="the tiles' product only")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("code", [IDENTITY, RELU], ids=["bias", "relu"])
def test_bias_and_relu_in_the_tile_are_the_pass_after_it(dtype, shape, code):
    """matmul_bias: the same bits as matmul, then the bias (and relu) added
    in a pass; NaN kept, -0 kept by relu, every column edge."""
    n, depth, m = shape
    L, R = _operands(n, depth, m, dtype, seed=5)
    if n * depth:
        L[0, 0] = np.nan
    b = np.random.default_rng(6).standard_normal(m).astype(dtype)
    b[: m // 3] = -0.0  # products of 0 columns + (-0) stay -0
    expected = np.full((n, m), np.nan, dtype=dtype)
    matmul(L, R, expected)
    add_bias_and_activate(expected, b, code)
    C = np.full((n, m), np.nan, dtype=dtype)
    matmul_bias(L, R, b, C, code == RELU)
    np.testing.assert_array_equal(C, expected)
    np.testing.assert_array_equal(np.signbit(C), np.signbit(expected))


@pytest.mark.skipif(not _gemm.SIMD, reason="the tiles' product only")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_relu_derivative_in_the_tile_is_the_pass_after_it(dtype, shape):
    """matmul_panels_relu_derivative: matmul_panels's bits, then 0 where A
    is 0 or -0 (relu's f'), as multiply_by_derivative; NaN in A kept."""
    n, depth, m = shape  # L (n, depth) @ W.T, W (m, depth)
    rng = np.random.default_rng(7)
    L = rng.standard_normal((n, depth)).astype(dtype)
    W = rng.standard_normal((m, depth)).astype(dtype)
    A = np.maximum(rng.standard_normal((n, m)), 0).astype(dtype)
    A.ravel()[:3] = [np.nan, -0.0, 0.0][: A.size]
    width = _gemm.panel_width(A)
    panels = np.full((m + width) * depth, np.nan, dtype=dtype)
    pack_transposed(W, panels, 0, m, width)
    expected = np.full((n, m), np.nan, dtype=dtype)
    matmul_panels(L, panels, expected, 0, m, width)
    multiply_by_derivative(A, expected, RELU)
    C = np.full((n, m), np.nan, dtype=dtype)
    matmul_panels_relu_derivative(L, panels, C, 0, m, width, A)
    np.testing.assert_array_equal(C, expected)
    np.testing.assert_array_equal(np.signbit(C), np.signbit(expected))


# Run in a fresh process per path: products, a loss gradient through the
# three products of each layer, and a short fit of each estimator.
_PATH_SCRIPT = """
import json, sys
import numpy as np
import scipy.sparse as sp
from fastbp import BackpropClassifier, BackpropRegressor, _gemm
from fastbp._gemm import matmul
rng = np.random.default_rng(0)
out = {"simd": _gemm.SIMD, "shape": _gemm.SHAPE,
       "cached": type(matmul._cache).__name__ != "NullCache"}
for dtype in (np.float32, np.float64):
    L = rng.standard_normal((37, 70)).astype(dtype)
    R = rng.standard_normal((70, 45)).astype(dtype)
    C = np.empty((37, 45), dtype)
    matmul(L, R, C)
    out["product", dtype.__name__] = C.tolist()
    X = rng.standard_normal((150, 6)).astype(dtype)
    y = X @ rng.standard_normal(6) + np.sin(X[:, 0])
    model = BackpropRegressor((40, 19), max_iter=5, random_state=0, tol=0)
    out["regressor", dtype.__name__] = [c.tolist() for c in model.fit(X, y).coefs_]
    labels = np.digitize(y, np.quantile(y, [0.3, 0.6]))
    clf = BackpropClassifier((24,), max_iter=5, random_state=0, tol=0)
    out["classifier", dtype.__name__] = clf.fit(X, labels).predict_proba(X).tolist()
    # One-hot-like sparse input: the first layer's sparse products.
    Xs = sp.random(150, 40, density=0.1, random_state=1, format="csr", dtype=dtype)
    clf = BackpropClassifier((24,), max_iter=5, random_state=0, tol=0)
    out["sparse", dtype.__name__] = clf.fit(Xs, labels).predict_proba(Xs).tolist()
json.dump({repr(k): v for k, v in out.items()}, sys.stdout)
"""


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    """Each path's results, computed in its own process (and JIT cache)."""
    results = {}
    for kernels in ("avx512", "avx2", "blas"):
        env = dict(os.environ, FASTBP_KERNELS=kernels,
                   NUMBA_CACHE_DIR=str(tmp_path_factory.mktemp(kernels)))  # fmt: skip
        done = subprocess.run([sys.executable, "-c", _PATH_SCRIPT], env=env,
                              capture_output=True, text=True, cwd=ROOT)  # fmt: skip
        assert done.returncode == 0, done.stderr
        results[kernels] = json.loads(done.stdout)
    return results


def test_every_tile_gives_the_same_bits(paths):
    """The AVX-512 tile and the AVX2 tile (each forced, on whatever CPU runs
    the test) give bit-identical products and fits."""
    assert paths["avx512"]["'shape'"] == list(_gemm.TILES["avx512"])
    assert paths["avx2"]["'shape'"] == list(_gemm.TILES["avx2"])
    assert paths["avx512"] == {**paths["avx2"], "'shape'": paths["avx512"]["'shape'"]}


def test_a_forced_path_caches_nothing(paths):
    """Numba's cache does not know which path compiled a kernel: a forced
    path compiles its own, every time."""
    assert not any(result["'cached'"] for result in paths.values())
    assert type(matmul._cache).__name__ != "NullCache" or "FASTBP_KERNELS" in os.environ


def test_blas_path_agrees(paths):
    """FASTBP_KERNELS=blas uses BLAS: the same results within rounding."""
    assert paths["blas"]["'simd'"] is False
    for key, value in paths["blas"].items():
        if key.startswith("('"):
            rtol = 1e-4 if "float32" in key else 1e-9
            np.testing.assert_allclose(
                np.concatenate([np.ravel(v) for v in value]) if "regressor" in key
                else np.asarray(value),
                np.concatenate([np.ravel(v) for v in paths["avx512"][key]])
                if "regressor" in key else np.asarray(paths["avx512"][key]),
                rtol=rtol, atol=rtol,
            )  # fmt: skip


def test_a_scratch_too_small_for_the_panels_is_refused():
    L, R = _operands(5, 30, 40, np.float64)
    W = np.ascontiguousarray(R.T)
    C = np.empty((5, 40))
    if not _gemm.SIMD:
        pytest.skip("the BLAS path takes no scratch")
    with pytest.raises(ValueError, match="scratch too small"):
        matmul_transposed(L, W, np.empty(W.size), C)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(200, 16), (200, 64), (7, 33), (13, 300), (1, 5), (0, 9)])
def test_column_sums_add_the_rows_in_order(dtype, shape):
    """A bias gradient: each column summed over the rows in order, the bits
    of one addition after another (NumPy's cumsum adds in order)."""
    A = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    out = np.full(shape[1], np.nan, dtype=dtype)
    column_sums(A, out)
    expected = np.cumsum(A, axis=0)[-1] if shape[0] else np.zeros(shape[1], dtype)
    np.testing.assert_array_equal(out, expected)


def _sum_of_squares_reference(x, lanes):
    """Lane ``l`` adds the squares ``l, l + lanes, ...`` in order (each
    square in x's dtype, added in float64); then halves, then halves."""
    sums = [0.0] * lanes
    for i, value in enumerate(x):
        sums[i % lanes] += float(value * value)
    while len(sums) > 1:
        half = len(sums) // 2
        sums = [sums[k] + sums[k + half] for k in range(half)]
    return sums[0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 7, 16, 17, 100, 7105])
def test_sum_of_squares_in_lane_order(dtype, n):
    """Bit for bit the lane sums and tree it documents; equal within
    rounding to the plain sum; the elements past n not read."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n + 3).astype(dtype) * 3
    x[n:] = np.nan
    lanes = _gemm.LANES_BITS // (8 * np.dtype(dtype).itemsize)
    got = _gemm.sum_of_squares(x, n)
    assert got == _sum_of_squares_reference(x[:n], lanes)
    exact = float(np.sum(x[:n].astype(np.float64) ** 2)) if n else 0.0
    assert got == pytest.approx(exact, rel=1e-6 if dtype == np.float32 else 1e-13)
