"""Losses and their output errors, with scikit-learn's scaling.

For predictions ``P`` and targets ``Y`` of shape (n_samples, n_outputs) and
per-sample weights ``w``, a loss is the weighted mean over samples of a
per-sample value ``l_i``::

    loss = sum_i w_i l_i / sum_i w_i

- squared error (half): ``l_i = 0.5 * mean_j (P_ij - Y_ij)**2``;
- absolute error: ``l_i = mean_j |P_ij - Y_ij|``;
- Huber, with threshold ``delta``: ``l_i = mean_j h(P_ij - Y_ij)``,
  ``h(e) = e**2 / 2`` for ``|e| <= delta``, ``delta (|e| - delta / 2)`` beyond;
- Poisson (half deviance, as scikit-learn, summed over outputs):
  ``l_i = sum_j Y_ij log(Y_ij / P_ij) - Y_ij + P_ij``, with ``P = exp(Z)``;
- binary log loss (logistic outputs: two classes, or one unit per label of a
  multilabel target), summed over outputs:
  ``l_i = -sum_j Y_ij log P_ij + (1 - Y_ij) log(1 - P_ij)``;
- log loss (softmax output, several classes):
  ``l_i = -sum_j Y_ij log P_ij``.

As scikit-learn's, the log losses clip the probabilities to
``[eps, 1 - eps]`` (``eps`` the machine epsilon of P's dtype) in the value
they report, so that a confident wrong prediction costs a large finite
amount, not infinity; the clipping does not enter the gradient.

The output error written by :func:`loss_delta` is ``scale * w_i * g_ij``, with
``g`` the derivative of ``l_i`` with respect to ``P_ij`` times the number of
outputs the mean runs over (``P - Y``, ``sign(P - Y)``, the clipped error); the
division by ``sum_i w_i`` is applied to the parameter gradients. With
``scale = 1``, scikit-learn's convention for its stochastic solvers, the
gradient is that of ``n_outputs`` times the data term (the same for one
output); ``scale = 1 / n_outputs`` gives the gradient of the loss itself, which
L-BFGS needs.

For the canonical pairs of a loss and an output activation (squared error
and identity, Poisson and exponential, binary log loss and logistic, log
loss and softmax), the derivative of the loss with respect to the output's
pre-activation ``Z`` is ``P - Y``: the output error is already
``dLoss/dZ``, and no output derivative is applied
(:func:`error_includes_derivative`). With any other pair the error is taken
with respect to P and multiplied by ``f'(Z)``.
"""

import numpy as np

from ._activations import EXP, IDENTITY, LOGISTIC, SOFTMAX
from ._jit import jit

SQUARED_ERROR = 0
POISSON = 1
ABSOLUTE_ERROR = 2
HUBER = 3
BINARY_LOG_LOSS = 4
LOG_LOSS = 5

# The regressor's losses, by the names of its ``loss`` parameter.
LOSS_CODES = {
    "squared_error": SQUARED_ERROR,
    "poisson": POISSON,
    "absolute_error": ABSOLUTE_ERROR,
    "huber": HUBER,
}
# Losses summed over outputs; the others are averaged over them.
SUMMED_OVER_OUTPUTS = frozenset({POISSON, BINARY_LOG_LOSS, LOG_LOSS})


def gradient_scale(code, n_outputs):
    """``scale`` for which the gradient is that of the loss itself."""
    return 1.0 if code in SUMMED_OVER_OUTPUTS else 1.0 / n_outputs


@jit
def error_includes_derivative(loss_code, out_code):
    """Whether the output error of ``loss_code`` is already ``dLoss/dZ``
    for an output layer of activation ``out_code`` (a canonical pair)."""
    return (
        (loss_code == SQUARED_ERROR and out_code == IDENTITY)
        or (loss_code == POISSON and out_code == EXP)
        or (loss_code == BINARY_LOG_LOSS and out_code == LOGISTIC)
        or (loss_code == LOG_LOSS and out_code == SOFTMAX)
    )


@jit
def _clipped_probability(P, i, j):
    """``P[i, j]`` clipped to ``[eps, 1 - eps]`` in P's dtype, as scikit-learn,
    then as a float64 (whose log is faster than float32's in Numba and at
    least as accurate)."""
    real = P.dtype.type
    eps = real(1.1920928955078125e-07 if P.itemsize == 4 else 2.220446049250313e-16)
    return np.float64(min(max(P[i, j], eps), real(1.0) - eps))


@jit
def weight_total(w):
    """``w``'s sum, added in order in float64: a batch's weight."""
    total = 0.0
    for i in range(w.shape[0]):
        total += w[i]
    return total


@jit
def loss_value(P, Y, w, code, huber_delta):
    """The weighted loss of predictions ``P`` for targets ``Y``: see
    :func:`weighted_loss`, whose ``weight_sum`` is :func:`weight_total` of
    ``w``."""
    return weighted_loss(P, Y, w, weight_total(w), code, huber_delta)


@jit
def weighted_loss(P, Y, w, weight_sum, code, huber_delta):
    """The weighted loss of predictions ``P`` for targets ``Y``, of samples
    weighing ``weight_sum`` in all.

    The loss is chosen once, outside the loops over samples and outputs
    (measured: the log loss of 200 x 10 outputs took 2.0 us with the choice
    inside them); each sample's ``l_i`` is summed over its outputs in order,
    then weighted.
    """
    n, m = P.shape
    total = 0.0
    if code == SQUARED_ERROR:
        for i in range(n):
            row = 0.0
            for j in range(m):
                e = P[i, j] - Y[i, j]
                row += 0.5 * e * e
            total += w[i] * row
    elif code == ABSOLUTE_ERROR:
        for i in range(n):
            row = 0.0
            for j in range(m):
                row += abs(P[i, j] - Y[i, j])
            total += w[i] * row
    elif code == HUBER:
        for i in range(n):
            row = 0.0
            for j in range(m):
                e = abs(P[i, j] - Y[i, j])
                row += 0.5 * e * e if e <= huber_delta else huber_delta * (
                    e - 0.5 * huber_delta
                )
            total += w[i] * row
    elif code == POISSON:
        for i in range(n):
            row = 0.0
            for j in range(m):
                y = Y[i, j]
                if y > 0.0:
                    row += y * np.log(y / P[i, j])
                row += P[i, j] - y
            total += w[i] * row
    elif code == BINARY_LOG_LOSS:
        for i in range(n):
            row = 0.0
            for j in range(m):
                p, y = _clipped_probability(P, i, j), Y[i, j]
                if y != 0.0:
                    row -= y * np.log(p)
                if y != 1.0:
                    row -= (1.0 - y) * np.log(1.0 - p)
            total += w[i] * row
    elif code == LOG_LOSS:
        for i in range(n):
            row = 0.0
            for j in range(m):
                if Y[i, j] != 0.0:
                    row -= Y[i, j] * np.log(_clipped_probability(P, i, j))
            total += w[i] * row
    else:
        raise ValueError("unknown loss code")
    if code == POISSON or code == BINARY_LOG_LOSS or code == LOG_LOSS:
        return total / weight_sum  # summed over outputs
    return total / (m * weight_sum)


@jit
def loss_delta(P, Y, w, delta, scale, code, huber_delta):
    """Write the output error ``scale * w_i * g_ij`` into ``delta``.

    The loss is chosen once, outside the loops (as in :func:`loss_value`).
    """
    n, m = P.shape
    if code == ABSOLUTE_ERROR:
        for i in range(n):
            for j in range(m):
                delta[i, j] = scale * w[i] * np.sign(P[i, j] - Y[i, j])
    elif code == HUBER:
        for i in range(n):
            for j in range(m):
                e = P[i, j] - Y[i, j]
                g = e if abs(e) <= huber_delta else huber_delta * np.sign(e)
                delta[i, j] = scale * w[i] * g
    elif (
        code == SQUARED_ERROR
        or code == POISSON
        or code == BINARY_LOG_LOSS
        or code == LOG_LOSS
    ):
        # The squared error's P - Y; the others' with respect to Z, for their
        # canonical output.
        for i in range(n):
            for j in range(m):
                delta[i, j] = scale * w[i] * (P[i, j] - Y[i, j])
    else:
        raise ValueError("unknown loss code")
