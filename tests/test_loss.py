"""Tests of fastbp._loss against the NumPy references in naive.py."""

import naive
import numpy as np
import pytest

from sklearn.neural_network._base import LOSS_FUNCTIONS as SKLEARN_LOSSES

from fastbp._activations import ACTIVATION_CODES, OUTPUT_CODES
from fastbp._loss import (
    BINARY_LOG_LOSS,
    LOG_LOSS,
    LOSS_CODES,
    SQUARED_ERROR,
    error_includes_derivative,
    gradient_scale,
    loss_delta,
    loss_value,
)

DTYPES = [np.float32, np.float64]


def _data(dtype, n_outputs, weights):
    rng = np.random.default_rng(n_outputs)
    P = rng.standard_normal((9, n_outputs)).astype(dtype)
    Y = rng.standard_normal((9, n_outputs)).astype(dtype)
    if weights == "unit":
        w = np.ones(9, dtype=dtype)
    else:
        w = rng.uniform(0, 3, 9).astype(dtype)
        w[[2, 5]] = 0.0
    return P, Y, w


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("weights", ["unit", "random"])
def test_squared_error_matches_reference(dtype, n_outputs, weights):
    """squared_error is half the weighted mean of the per-sample mean squared error."""
    P, Y, w = _data(dtype, n_outputs, weights)
    expected = naive.squared_error(*(a.astype(np.float64) for a in (P, Y, w)))
    naive.assert_close(loss_value(P, Y, w, SQUARED_ERROR, 1.0), expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("weights", ["unit", "random"])
def test_squared_error_delta_matches_reference(dtype, n_outputs, weights):
    """squared_error_delta writes w_i (P_ij - Y_ij) into delta."""
    P, Y, w = _data(dtype, n_outputs, weights)
    expected = naive.squared_error_delta(*(a.astype(np.float64) for a in (P, Y, w)))
    delta = np.full_like(P, np.nan)
    loss_delta(P, Y, w, delta, 1.0, SQUARED_ERROR, 1.0)
    naive.assert_close(delta, expected, dtype)


def test_squared_error_hand_worked():
    """Per-sample mean squared errors 1 and 10, weights 1 and 3: 0.5 * 31 / 4."""
    P = np.array([[1.0, 0.0], [2.0, 4.0]])
    Y = np.array([[0.0, 1.0], [0.0, 0.0]])
    w = np.array([1.0, 3.0])
    value = loss_value(P, Y, w, SQUARED_ERROR, 1.0)
    assert value == pytest.approx(0.5 * (1.0 + 3.0 * 10.0) / 4.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(LOSS_CODES))
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_every_loss_and_its_delta_match_reference(dtype, name, n_outputs):
    """loss_value and loss_delta (with a scale) against NumPy, random weights."""
    P, Y, w = _data(dtype, n_outputs, "random")
    if name == "poisson":
        P, Y = np.exp(P), np.abs(Y) * (np.arange(Y.size).reshape(Y.shape) % 3 > 0)
    huber_delta = 0.7
    as64 = [a.astype(np.float64) for a in (P, Y, w)]
    expected = naive.loss(name, *as64, huber_delta)
    value = loss_value(P, Y, w, LOSS_CODES[name], huber_delta)
    naive.assert_close(value, expected, dtype)
    delta = np.full_like(P, np.nan)
    loss_delta(P, Y, w, delta, 0.5, LOSS_CODES[name], huber_delta)
    naive.assert_close(delta, 0.5 * naive.loss_delta(name, *as64, huber_delta), dtype)


def test_huber_is_quadratic_then_linear():
    """h(0.5) = 0.125 and h(3) = 1 * (3 - 0.5) = 2.5 with delta = 1."""
    P = np.array([[0.5, 3.0]])
    Y = np.zeros((1, 2))
    value = loss_value(P, Y, np.ones(1), LOSS_CODES["huber"], 1.0)
    assert value == pytest.approx((0.125 + 2.5) / 2)


def _probabilities(dtype, n_outputs, kind):
    """Probabilities P and 0/1 targets Y: softmax rows or independent units."""
    rng = np.random.default_rng(n_outputs + 10)
    Z = 3 * rng.standard_normal((9, n_outputs))
    if kind == "softmax":
        P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
        Y = np.eye(n_outputs)[rng.integers(0, n_outputs, 9)]
    else:
        P = 1 / (1 + np.exp(-Z))
        Y = (rng.uniform(size=Z.shape) < 0.5).astype(float)
    P[0, 0] = 1.0  # clipped: the loss stays finite, as scikit-learn's
    P[1, -1] = 0.0
    return P.astype(dtype), Y.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "kind, code, n_outputs",
    [("softmax", LOG_LOSS, 3), ("logistic", BINARY_LOG_LOSS, 1),
     ("logistic", BINARY_LOG_LOSS, 4)],
)  # fmt: skip
def test_log_losses_are_scikit_learns(dtype, kind, code, n_outputs):
    """The log losses, with sample weights and clipping, equal scikit-learn's
    MLP log_loss / binary_log_loss; their error is w (P - Y)."""
    P, Y = _probabilities(dtype, n_outputs, kind)
    w = np.random.default_rng(0).uniform(0, 3, 9).astype(dtype)
    reference = SKLEARN_LOSSES["log_loss" if code == LOG_LOSS else "binary_log_loss"]
    expected = reference(Y.astype(bool), P, sample_weight=w)
    assert np.isfinite(expected)
    naive.assert_close(loss_value(P, Y, w, code, 1.0), expected, dtype)
    delta = np.full_like(P, np.nan)
    loss_delta(P, Y, w, delta, 1.0, code, 1.0)
    naive.assert_close(delta, w[:, None] * (P - Y), dtype)


def test_canonical_pairs_include_the_output_derivative():
    """dLoss/dZ = P - Y exactly for the canonical (loss, output) pairs."""
    canonical = {
        (SQUARED_ERROR, ACTIVATION_CODES["identity"]),
        (LOSS_CODES["poisson"], OUTPUT_CODES["exp"]),
        (BINARY_LOG_LOSS, OUTPUT_CODES["logistic"]),
        (LOG_LOSS, OUTPUT_CODES["softmax"]),
    }
    for loss in [*LOSS_CODES.values(), BINARY_LOG_LOSS, LOG_LOSS]:
        for out in OUTPUT_CODES.values():
            assert error_includes_derivative(loss, out) == ((loss, out) in canonical)


def test_log_losses_are_summed_over_outputs():
    """Their gradient scale is 1 (scikit-learn's), the squared error's 1/m."""
    assert gradient_scale(LOG_LOSS, 5) == gradient_scale(BINARY_LOG_LOSS, 5) == 1.0
    assert gradient_scale(SQUARED_ERROR, 4) == 0.25
