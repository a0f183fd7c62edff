"""Tests of fastbp._dense against the NumPy references in naive.py."""

import naive
import numpy as np
import pytest

from fastbp._activations import ACTIVATION_CODES
from fastbp._dense import dense_backward, dense_forward, dense_gradient
from fastbp._team import solo

DTYPES = [np.float32, np.float64]
NAMES = ["identity", "logistic", "tanh", "relu", "leaky_relu", "elu"]
N, FAN_IN, FAN_OUT = 7, 5, 3


def _as64(*arrays):
    return [a.astype(np.float64) for a in arrays]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_dense_forward_matches_reference(dtype, name):
    """dense_forward writes f(A_prev @ W + b) into A."""
    rng = np.random.default_rng(0)
    A_prev = rng.standard_normal((N, FAN_IN)).astype(dtype)
    W = rng.standard_normal((FAN_IN, FAN_OUT)).astype(dtype)
    b = rng.standard_normal(FAN_OUT).astype(dtype)
    A = np.full((N, FAN_OUT), np.nan, dtype=dtype)
    dense_forward(A_prev, W, b, A, ACTIVATION_CODES[name], 1, solo())
    naive.assert_close(A, naive.dense_forward(*_as64(A_prev, W, b), name), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_dense_gradient_matches_reference(dtype, alpha):
    """dW = (A_prev.T @ delta + alpha W) / sum(w), db = delta.sum(0) / sum(w)."""
    rng = np.random.default_rng(1)
    A_prev = rng.standard_normal((N, FAN_IN)).astype(dtype)
    delta = rng.standard_normal((N, FAN_OUT)).astype(dtype)
    W = rng.standard_normal((FAN_IN, FAN_OUT)).astype(dtype)
    weight_sum = 3.7
    dW = np.full((FAN_IN, FAN_OUT), np.nan, dtype=dtype)
    db = np.full(FAN_OUT, np.nan, dtype=dtype)
    dense_gradient(A_prev, delta, W, alpha, weight_sum, dW, db, 1, solo())
    expected_dW, expected_db = naive.dense_gradient(
        *_as64(A_prev, delta, W), alpha, weight_sum
    )
    naive.assert_close(dW, expected_dW, dtype)
    naive.assert_close(db, expected_db, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_dense_backward_matches_reference(dtype, name):
    """dense_backward writes (delta @ W.T) * f'(A_prev) into delta_prev."""
    rng = np.random.default_rng(2)
    delta = rng.standard_normal((N, FAN_OUT)).astype(dtype)
    W = rng.standard_normal((FAN_IN, FAN_OUT)).astype(dtype)
    A_prev = naive.activate(rng.standard_normal((N, FAN_IN)), name).astype(dtype)
    delta_prev = np.full((N, FAN_IN), np.nan, dtype=dtype)
    scratch = np.full((W.shape[0] + 64) * W.shape[1], np.nan, dtype=W.dtype)
    dense_backward(delta, W, A_prev, ACTIVATION_CODES[name], delta_prev, scratch, 1,
                   solo())  # fmt: skip
    expected = naive.dense_backward(*_as64(delta, W, A_prev), name)
    naive.assert_close(delta_prev, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fan_in", [5, 64, 600])
def test_backward_from_one_unit_matches_reference(dtype, name, fan_in):
    """From a one-unit layer the error is an outer product; relu's f' is
    applied in the same pass (zero where A_prev is 0 or -0, NaN kept)."""
    rng = np.random.default_rng(4)
    delta = rng.standard_normal((N, 1)).astype(dtype)
    W = rng.standard_normal((fan_in, 1)).astype(dtype)
    A_prev = naive.activate(rng.standard_normal((N, fan_in)), name).astype(dtype)
    if name == "relu":
        A_prev[0, :3] = [0.0, -0.0, np.nan]
    delta_prev = np.full((N, fan_in), np.nan, dtype=dtype)
    scratch = np.full(8, np.nan, dtype=dtype)
    dense_backward(delta, W, A_prev, ACTIVATION_CODES[name], delta_prev, scratch, 1,
                   solo())  # fmt: skip
    if name == "relu":  # the same bits as the product, then zeros
        expected = np.where(A_prev == 0, dtype(0), delta * W.T)
        np.testing.assert_array_equal(delta_prev, expected)
        assert not np.signbit(delta_prev[0, :2]).any()
    else:
        expected = naive.dense_backward(*_as64(delta, W, A_prev), name)
        naive.assert_close(delta_prev, expected, dtype)


def _layer_results(n, fan_in, fan_out, dtype, threads):
    """Forward, gradient and backward of one layer with ``threads`` parts."""
    rng = np.random.default_rng(3)
    A_prev = naive.activate(rng.standard_normal((n, fan_in)), "tanh").astype(dtype)
    W = rng.standard_normal((fan_in, fan_out)).astype(dtype)
    b = rng.standard_normal(fan_out).astype(dtype)
    delta = rng.standard_normal((n, fan_out)).astype(dtype)
    A = np.full((n, fan_out), np.nan, dtype=dtype)
    dW = np.full_like(W, np.nan)
    db = np.full_like(b, np.nan)
    delta_prev = np.full((n, fan_in), np.nan, dtype=dtype)
    scratch = np.full((W.shape[0] + 64) * W.shape[1], np.nan, dtype=dtype)
    code = ACTIVATION_CODES["tanh"]
    dense_forward(A_prev, W, b, A, code, threads, solo())
    dense_gradient(A_prev, delta, W, 0.1, n, dW, db, threads, solo())
    dense_backward(delta, W, A_prev, code, delta_prev, scratch, threads, solo())
    return A, dW, db, delta_prev


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(200, 300, 130), (150, 1030, 77), (120, 40, 900)])
def test_split_between_threads_gives_the_same_bits(dtype, shape):
    """Large products split into 2 or 3 parts (threads) give the serial
    product's bits, and still the reference's values."""
    from fastbp._parallel import PARALLEL_MIN_MACS

    assert np.prod(shape) >= PARALLEL_MIN_MACS  # the split path runs
    serial = _layer_results(*shape, dtype, 1)
    for threads in (2, 3):
        for a, b in zip(_layer_results(*shape, dtype, threads), serial):
            np.testing.assert_array_equal(a, b)
