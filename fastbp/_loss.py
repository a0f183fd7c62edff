"""Squared-error loss, with scikit-learn's scaling.

For predictions ``P`` and targets ``Y`` of shape (n_samples, n_outputs) and
per-sample weights ``w``, the reported loss is half the weighted mean, over
samples, of the squared error averaged over outputs::

    loss = 0.5 * sum_i w_i * mean_j (P_ij - Y_ij)**2 / sum_i w_i

Its gradient with respect to ``P_ij`` is ``w_i (P_ij - Y_ij) / (n_outputs *
sum_i w_i)``. Like scikit-learn, the output delta is taken as
``w_i (P_ij - Y_ij)`` and the division by ``sum_i w_i`` is applied to the
parameter gradients; for the stochastic solvers the ``1 / n_outputs`` factor
is not applied (scikit-learn's convention), so that the gradient is that of
``n_outputs`` times the data term plus the L2 term (identical for a single
output). L-BFGS, which needs the gradient of the loss it minimises, applies it.
"""

from ._jit import jit


@jit
def squared_error(P, Y, w):
    """Weighted half mean squared error between ``P`` and ``Y``."""
    n, m = P.shape
    total = 0.0
    weight_sum = 0.0
    for i in range(n):
        row = 0.0
        for j in range(m):
            e = P[i, j] - Y[i, j]
            row += e * e
        total += w[i] * row
        weight_sum += w[i]
    return 0.5 * total / (m * weight_sum)


@jit
def squared_error_delta(P, Y, w, delta, scale):
    """Write ``scale * w_i (P_ij - Y_ij)``, the output error, into ``delta``.

    ``scale = 1`` is scikit-learn's convention for its stochastic solvers;
    ``scale = 1 / n_outputs`` gives the gradient of the reported loss itself.
    """
    n, m = P.shape
    for i in range(n):
        for j in range(m):
            delta[i, j] = scale * w[i] * (P[i, j] - Y[i, j])
