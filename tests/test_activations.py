"""Tests of fastbp._activations against the NumPy references in naive.py."""

import naive
import numpy as np
import pytest

from fastbp._activations import (
    ACTIVATION_CODES,
    OUTPUT_CODES,
    add_bias_and_activate,
    multiply_by_derivative,
)

DTYPES = [np.float32, np.float64]
NAMES = ["identity", "logistic", "tanh", "relu", "leaky_relu", "elu"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_add_bias_and_activate_matches_reference(dtype, name):
    """add_bias_and_activate writes f(Z + b) over Z."""
    rng = np.random.default_rng(0)
    Z = (3 * rng.standard_normal((7, 5))).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    expected = naive.activate(Z.astype(np.float64) + b, name)
    add_bias_and_activate(Z, b, ACTIVATION_CODES[name])
    assert Z.dtype == dtype
    naive.assert_close(Z, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_multiply_by_derivative_matches_reference(dtype, name):
    """multiply_by_derivative scales delta by f'(Z), computed from A = f(Z)."""
    rng = np.random.default_rng(1)
    A = naive.activate(3 * rng.standard_normal((7, 5)), name).astype(dtype)
    delta = rng.standard_normal((7, 5)).astype(dtype)
    A_before = A.copy()
    expected = delta.astype(np.float64) * naive.derivative(A.astype(np.float64), name)
    multiply_by_derivative(A, delta, ACTIVATION_CODES[name])
    naive.assert_close(delta, expected, dtype)
    np.testing.assert_array_equal(A, A_before)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_derivative_is_zero_where_output_is_zero(dtype):
    """relu's derivative is 0 where A == 0 and 1 elsewhere."""
    A = np.array([[0.0, 0.5, 0.0], [2.0, 0.0, 1e-30]], dtype=dtype)
    delta = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=dtype)
    multiply_by_derivative(A, delta, ACTIVATION_CODES["relu"])
    np.testing.assert_array_equal(delta, [[0.0, 2.0, 0.0], [4.0, 0.0, 6.0]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_activate_passes_nan_through(dtype, name):
    """A NaN input stays NaN (a diverging model must stay visible)."""
    Z = np.array([[np.nan, -1.0], [1.0, np.nan]], dtype=dtype)
    add_bias_and_activate(Z, np.zeros(2, dtype), ACTIVATION_CODES[name])
    assert np.isnan(Z[0, 0]) and np.isnan(Z[1, 1])
    assert not np.isnan(Z[0, 1]) and not np.isnan(Z[1, 0])


def test_relu_activate_hand_worked():
    """relu zeroes negative values and keeps the others."""
    Z = np.array([[-2.0, -0.0, 0.0, 3.0]])
    add_bias_and_activate(Z, np.array([0.0, 0.0, 0.0, -1.0]), ACTIVATION_CODES["relu"])
    np.testing.assert_array_equal(Z, [[0.0, 0.0, 0.0, 2.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_is_scikit_learns_and_stable(dtype):
    """The softmax output equals scikit-learn's inplace_softmax of Z + b,
    rows sum to 1, and logits of 1e4 (whose exp overflows) give no NaN."""
    from sklearn.neural_network._base import inplace_softmax

    rng = np.random.RandomState(0)
    Z = (rng.normal(size=(40, 7)) * 5).astype(dtype)
    Z[0] = [1e4, 0, -1e4, 3, 1e4 - 1, 2, 0]
    b = rng.normal(size=7).astype(dtype)
    expected = (Z + b).astype(dtype)
    inplace_softmax(expected)
    got = Z.copy()
    add_bias_and_activate(got, b, OUTPUT_CODES["softmax"])
    rtol = 1e-5 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-300)
    np.testing.assert_allclose(got.sum(axis=1), 1, rtol=rtol)
    assert np.isfinite(got).all()


def test_softmax_has_no_elementwise_derivative():
    with pytest.raises(ValueError, match="softmax"):
        multiply_by_derivative(np.ones((2, 3)), np.ones((2, 3)), OUTPUT_CODES["softmax"])
