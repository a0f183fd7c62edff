"""Activation functions and their derivatives, computed in place.

Each activation is identified by an integer code so that one compiled kernel
serves every network (no specialisation per activation). Derivatives are
written in terms of the activation's output ``A = f(Z)``, which the forward
pass has already computed: ``logistic' = A (1 - A)``, ``tanh' = 1 - A**2``,
``relu' = [A > 0]``, ``leaky_relu' = 1 if A > 0 else 0.01``, and for
``elu(Z) = exp(Z) - 1`` (Z <= 0), ``elu' = exp(Z) = A + 1``.

Two activations serve only as outputs, each paired with the loss whose
output error already includes its derivative (see
``_loss.error_includes_derivative``): the exponential of Poisson regression
(log link) and the softmax of multiclass classification (with the log loss),
``softmax(Z)_j = exp(Z_j - max_k Z_k) / sum_k exp(Z_k - max_k Z_k)``: the
maximum subtracted first, so that no exponential overflows. The softmax is a
function of a whole row, and its Jacobian is not diagonal: it has no
elementwise derivative, and :func:`multiply_by_derivative` refuses it.

Every function handles each code by an explicit branch and raises a
ValueError for a code it does not know.
"""

import numpy as np

from ._exp import exp, exp32
from ._jit import jit
from ._pairwise import BLOCK, block_sum, pairwise_sum

IDENTITY = 0
LOGISTIC = 1
TANH = 2
RELU = 3
LEAKY_RELU = 4
ELU = 5
EXP = 6  # the output of Poisson regression (log link); not for hidden layers
SOFTMAX = 7  # the output of multiclass classification; not for hidden layers

LEAKY_RELU_SLOPE = 0.01
ELU_ALPHA = 1.0

ACTIVATION_CODES = {
    "identity": IDENTITY,
    "logistic": LOGISTIC,
    "tanh": TANH,
    "relu": RELU,
    "leaky_relu": LEAKY_RELU,
    "elu": ELU,
}
OUTPUT_CODES = {**ACTIVATION_CODES, "exp": EXP, "softmax": SOFTMAX}


@jit
def add_bias_and_activate(Z, b, code):
    """Replace ``Z`` (n_samples, n_units) by ``f(Z + b)`` in place, one pass.

    Constants are taken in ``Z``'s dtype, so that float32 stays float32, as
    in scikit-learn (NumPy keeps float32 arrays float32 with Python floats).
    """
    n, m = Z.shape
    real = Z.dtype.type
    zero, one = real(0.0), real(1.0)
    if code == LOGISTIC:
        for i in range(n):
            for j in range(m):
                Z[i, j] = one / (one + np.exp(-(Z[i, j] + b[j])))
    elif code == TANH:
        for i in range(n):
            for j in range(m):
                Z[i, j] = np.tanh(Z[i, j] + b[j])
    elif code == RELU:
        for i in range(n):
            for j in range(m):
                z = Z[i, j] + b[j]
                Z[i, j] = zero if z < zero else z  # NaN passes through
    elif code == LEAKY_RELU:
        slope = real(LEAKY_RELU_SLOPE)
        for i in range(n):
            for j in range(m):
                z = Z[i, j] + b[j]
                Z[i, j] = slope * z if z < zero else z
    elif code == ELU:
        alpha = real(ELU_ALPHA)
        for i in range(n):
            for j in range(m):
                z = Z[i, j] + b[j]
                Z[i, j] = alpha * (np.exp(z) - one) if z < zero else z
    elif code == EXP:
        for i in range(n):
            for j in range(m):
                Z[i, j] = np.exp(Z[i, j] + b[j])
    elif code == SOFTMAX:
        # Bias and the row's maximum subtracted row by row; then exp (see
        # _exp: float32 in float32) over the whole block as one contiguous
        # vector, a loop that vectorises; each row divided by its sum, taken
        # in NumPy's order (see _pairwise). Z is C-contiguous (every
        # workspace is).
        for i in range(n):
            row = Z[i]
            for j in range(m):
                row[j] += b[j]
            largest = _row_maximum(row)
            for j in range(m):
                row[j] -= largest
        flat = Z.reshape(n * m)
        if Z.itemsize == 4:
            for k in range(n * m):
                flat[k] = exp32(np.float32(flat[k]))
        else:
            for k in range(n * m):
                flat[k] = exp(np.float64(flat[k]))
        for i in range(n):
            if m <= BLOCK:
                total = block_sum(flat, i * m, m)
            else:
                total = pairwise_sum(flat, i * m, m)
            for j in range(m):
                flat[i * m + j] /= total
    elif code == IDENTITY:
        for i in range(n):
            for j in range(m):
                Z[i, j] += b[j]
    else:
        raise ValueError("unknown activation code")


@jit(inline="always")
def _row_maximum(row):
    """The largest of ``row``'s values, from four interleaved running maxima:
    four short dependency chains instead of one long one (measured: bias,
    maximum and subtraction of 200 rows of 10 in 1.26 us against 1.49). The
    maximum is exact in any order, and a NaN makes the softmax's row NaN
    whichever maximum is found."""
    m0 = m1 = m2 = m3 = row[0]
    j = 0
    while j + 4 <= row.shape[0]:
        m0 = row[j] if row[j] > m0 else m0
        m1 = row[j + 1] if row[j + 1] > m1 else m1
        m2 = row[j + 2] if row[j + 2] > m2 else m2
        m3 = row[j + 3] if row[j + 3] > m3 else m3
        j += 4
    while j < row.shape[0]:
        m0 = row[j] if row[j] > m0 else m0
        j += 1
    m0 = m1 if m1 > m0 else m0
    m2 = m3 if m3 > m2 else m2
    return m2 if m2 > m0 else m0


@jit
def multiply_by_derivative(A, delta, code):
    """Multiply ``delta`` in place by ``f'(Z)``, given ``A = f(Z)``.

    Constants are taken in ``delta``'s dtype (see
    :func:`add_bias_and_activate`).
    """
    n, m = A.shape
    real = delta.dtype.type
    zero, one = real(0.0), real(1.0)
    if code == LOGISTIC:
        for i in range(n):
            for j in range(m):
                delta[i, j] *= A[i, j] * (one - A[i, j])
    elif code == TANH:
        for i in range(n):
            for j in range(m):
                delta[i, j] *= one - A[i, j] * A[i, j]
    elif code == RELU:
        for i in range(n):
            for j in range(m):
                if A[i, j] == zero:
                    delta[i, j] = zero
    elif code == LEAKY_RELU:
        slope = real(LEAKY_RELU_SLOPE)
        for i in range(n):
            for j in range(m):
                if not A[i, j] > zero:
                    delta[i, j] *= slope
    elif code == ELU:
        alpha = real(ELU_ALPHA)
        for i in range(n):
            for j in range(m):
                if not A[i, j] > zero:
                    delta[i, j] *= A[i, j] + alpha
    elif code == EXP:
        for i in range(n):
            for j in range(m):
                delta[i, j] *= A[i, j]
    elif code == IDENTITY:
        return  # f'(Z) = 1
    elif code == SOFTMAX:
        raise ValueError(
            "the softmax has no elementwise derivative: pair it with the log "
            "loss, whose output error is already dLoss/dZ"
        )
    else:
        raise ValueError("unknown activation code")
