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
  ``l_i = sum_j Y_ij log(Y_ij / P_ij) - Y_ij + P_ij``, with ``P = exp(Z)``.

The output error written by :func:`loss_delta` is ``scale * w_i * g_ij``, with
``g`` the derivative of ``l_i`` with respect to ``P_ij`` times the number of
outputs the mean runs over (``P - Y``, ``sign(P - Y)``, the clipped error); the
division by ``sum_i w_i`` is applied to the parameter gradients. With
``scale = 1``, scikit-learn's convention for its stochastic solvers, the
gradient is that of ``n_outputs`` times the data term (the same for one
output); ``scale = 1 / n_outputs`` gives the gradient of the loss itself, which
L-BFGS needs. For Poisson the error is taken with respect to ``Z`` (the
canonical log link: ``P - Y``) and no output derivative is applied.
"""

import numpy as np

from ._jit import jit

SQUARED_ERROR = 0
POISSON = 1
ABSOLUTE_ERROR = 2
HUBER = 3

LOSS_CODES = {
    "squared_error": SQUARED_ERROR,
    "poisson": POISSON,
    "absolute_error": ABSOLUTE_ERROR,
    "huber": HUBER,
}


def gradient_scale(code, n_outputs):
    """``scale`` for which the gradient is that of the loss itself."""
    return 1.0 if code == POISSON else 1.0 / n_outputs


@jit
def loss_value(P, Y, w, code, huber_delta):
    """The weighted loss of predictions ``P`` for targets ``Y``."""
    n, m = P.shape
    total = 0.0
    weight_sum = 0.0
    for i in range(n):
        row = 0.0
        for j in range(m):
            e = P[i, j] - Y[i, j]
            if code == SQUARED_ERROR:
                row += 0.5 * e * e
            elif code == ABSOLUTE_ERROR:
                row += abs(e)
            elif code == HUBER:
                if abs(e) <= huber_delta:
                    row += 0.5 * e * e
                else:
                    row += huber_delta * (abs(e) - 0.5 * huber_delta)
            else:
                y = Y[i, j]
                if y > 0.0:
                    row += y * np.log(y / P[i, j])
                row += P[i, j] - y
        total += w[i] * row
        weight_sum += w[i]
    if code == POISSON:
        return total / weight_sum
    return total / (m * weight_sum)


@jit
def loss_delta(P, Y, w, delta, scale, code, huber_delta):
    """Write the output error ``scale * w_i * g_ij`` into ``delta``."""
    n, m = P.shape
    for i in range(n):
        for j in range(m):
            e = P[i, j] - Y[i, j]
            if code == ABSOLUTE_ERROR:
                g = np.sign(e)
            elif code == HUBER:
                g = e if abs(e) <= huber_delta else huber_delta * np.sign(e)
            else:  # squared error; Poisson with respect to Z
                g = e
            delta[i, j] = scale * w[i] * g
