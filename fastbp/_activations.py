"""Activation functions and their derivatives, computed in place.

Each activation is identified by an integer code so that one compiled kernel
serves every network (no specialisation per activation). Derivatives are
written in terms of the activation's output ``A = f(Z)``, which the forward
pass has already computed: ``logistic' = A (1 - A)``, ``tanh' = 1 - A**2``,
``relu' = [A > 0]``, ``leaky_relu' = 1 if A > 0 else 0.01``, and for
``elu(Z) = exp(Z) - 1`` (Z <= 0), ``elu' = exp(Z) = A + 1``.
"""

import numpy as np

from ._jit import jit

IDENTITY = 0
LOGISTIC = 1
TANH = 2
RELU = 3
LEAKY_RELU = 4
ELU = 5
EXP = 6  # the output of Poisson regression (log link); not for hidden layers

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
OUTPUT_CODES = {**ACTIVATION_CODES, "exp": EXP}


@jit
def add_bias_and_activate(Z, b, code):
    """Replace ``Z`` (n_samples, n_units) by ``f(Z + b)`` in place, one pass."""
    n, m = Z.shape
    if code == LOGISTIC:
        for i in range(n):
            for j in range(m):
                Z[i, j] = 1.0 / (1.0 + np.exp(-(Z[i, j] + b[j])))
    elif code == TANH:
        for i in range(n):
            for j in range(m):
                Z[i, j] = np.tanh(Z[i, j] + b[j])
    elif code == RELU:
        for i in range(n):
            for j in range(m):
                z = Z[i, j] + b[j]
                Z[i, j] = 0.0 if z < 0.0 else z  # NaN passes through
    elif code == LEAKY_RELU:
        for i in range(n):
            for j in range(m):
                z = Z[i, j] + b[j]
                Z[i, j] = LEAKY_RELU_SLOPE * z if z < 0.0 else z
    elif code == ELU:
        for i in range(n):
            for j in range(m):
                z = Z[i, j] + b[j]
                Z[i, j] = ELU_ALPHA * (np.exp(z) - 1.0) if z < 0.0 else z
    elif code == EXP:
        for i in range(n):
            for j in range(m):
                Z[i, j] = np.exp(Z[i, j] + b[j])
    else:
        for i in range(n):
            for j in range(m):
                Z[i, j] += b[j]


@jit
def multiply_by_derivative(A, delta, code):
    """Multiply ``delta`` in place by ``f'(Z)``, given ``A = f(Z)``."""
    n, m = A.shape
    if code == LOGISTIC:
        for i in range(n):
            for j in range(m):
                delta[i, j] *= A[i, j] * (1.0 - A[i, j])
    elif code == TANH:
        for i in range(n):
            for j in range(m):
                delta[i, j] *= 1.0 - A[i, j] * A[i, j]
    elif code == RELU:
        for i in range(n):
            for j in range(m):
                if A[i, j] == 0.0:
                    delta[i, j] = 0.0
    elif code == LEAKY_RELU:
        for i in range(n):
            for j in range(m):
                if not A[i, j] > 0.0:
                    delta[i, j] *= LEAKY_RELU_SLOPE
    elif code == ELU:
        for i in range(n):
            for j in range(m):
                if not A[i, j] > 0.0:
                    delta[i, j] *= A[i, j] + ELU_ALPHA
    elif code == EXP:
        for i in range(n):
            for j in range(m):
                delta[i, j] *= A[i, j]
