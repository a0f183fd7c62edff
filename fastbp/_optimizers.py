"""Stochastic optimizers over one flat parameter buffer.

They know nothing of layers: ``params``, ``grad`` and the optimizer's state
are flat arrays of the same length (see ``_layout``). The arithmetic follows
scikit-learn's ``SGDOptimizer`` and ``AdamOptimizer`` operation for
operation, so that both produce the same weights.
"""

import numpy as np

from ._jit import jit

SGD = 0
ADAM = 1

SOLVER_CODES = {"sgd": SGD, "adam": ADAM}

# Positions in the ``hyper`` array that every optimizer call receives.
LEARNING_RATE, MOMENTUM, NESTEROV, BETA_1, BETA_2, EPSILON = range(6)


def optimizer_hyperparameters(
    learning_rate, momentum, nesterov, beta_1, beta_2, epsilon
):
    """Pack the optimizers' hyper-parameters into the ``hyper`` array."""
    return np.array(
        [learning_rate, momentum, float(nesterov), beta_1, beta_2, epsilon],
        dtype=np.float64,
    )


@jit
def smallest_normal(a):
    """The flush threshold of ``a``'s floating-point type.

    The smallest normal number times 2**(mantissa bits): a value below it,
    multiplied by anything above machine epsilon, could still turn subnormal.
    """
    if a.itemsize == 4:
        return 1.1754943508222875e-38 * 2.0**23
    return 2.2250738585072014e-308 * 2.0**52


@jit
def flush(x, tiny):
    """``x``, or 0 if it is (nearly) subnormal.

    Weights of dead units and moments of zero gradients decay geometrically
    into subnormal numbers, on which every operation is ~100 times slower
    (measured: an epoch of a 4 x 50 relu network went from 12 to 27 ms).
    Flushing values below ``tiny`` (1e-31 in float32, 1e-292 in float64)
    changes nothing that the model's outputs can show.
    """
    return x - x if abs(x) < tiny else x  # x - x: a zero of x's type


@jit
def sgd_update(params, grad, velocity, learning_rate, momentum, nesterov):
    """One SGD step with (Nesterov) momentum; updates params and velocity.

    ``v <- momentum * v - lr * g``; the step is ``v``, or with Nesterov's
    momentum ``momentum * v - lr * g``, computed in float64 and stored in the
    parameters' dtype (for float32 this follows scikit-learn's float32 run
    more closely than float32 arithmetic, whose fused multiply-adds round
    differently from NumPy's separate operations). Results below the flush
    threshold are set to 0 (see :func:`flush`).
    """
    tiny = smallest_normal(params)
    for i in range(params.shape[0]):
        v = flush(momentum * velocity[i] - learning_rate * grad[i], tiny)
        velocity[i] = v
        if nesterov:
            params[i] = flush(
                params[i] + (momentum * v - learning_rate * grad[i]), tiny
            )
        else:
            params[i] = flush(params[i] + v, tiny)


@jit
def adam_update(params, grad, m, v, step, learning_rate, beta_1, beta_2, epsilon):
    """One Adam step (``step`` counts from 1); updates params, m and v.

    The bias corrections are folded into the step size:
    ``lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``. As in
    scikit-learn, the moments are computed in the parameters' dtype and the
    step ``lr_t * m / (sqrt(v) + epsilon)`` in float64 (``lr_t`` is a
    float64 scalar there, which NumPy does not demote). Results below the
    flush threshold are set to 0 (see :func:`flush`).
    """
    real = params.dtype.type
    lr_t = learning_rate * np.sqrt(1.0 - beta_2**step) / (1.0 - beta_1**step)
    b1, c1 = real(beta_1), real(1.0 - beta_1)
    b2, c2 = real(beta_2), real(1.0 - beta_2)
    eps = real(epsilon)
    tiny = real(smallest_normal(params))
    for i in range(params.shape[0]):
        g = grad[i]
        m_i = flush(b1 * m[i] + c1 * g, tiny)
        v_i = flush(b2 * v[i] + c2 * (g * g), tiny)
        m[i] = m_i
        v[i] = v_i
        params[i] = flush(real(params[i] + -lr_t * m_i / (np.sqrt(v_i) + eps)), tiny)


@jit
def optimizer_step(solver, params, grad, state, step, hyper):
    """Apply one update of ``solver`` (SGD or ADAM).

    ``state`` (2, n_params) holds the velocity (SGD) or the first and second
    moments (Adam); ``step`` is the 1-based number of this update.
    """
    update_range(solver, params, grad, state, step, hyper, 0, params.shape[0])


@jit
def update_range(solver, params, grad, state, step, hyper, start, stop):
    """:func:`optimizer_step` on parameters ``start:stop`` only (each
    parameter's update depends on its own values alone)."""
    if solver == SGD:
        sgd_update(
            params[start:stop],
            grad[start:stop],
            state[0][start:stop],
            hyper[LEARNING_RATE],
            hyper[MOMENTUM],
            hyper[NESTEROV] != 0.0,
        )
    else:
        adam_update(
            params[start:stop],
            grad[start:stop],
            state[0][start:stop],
            state[1][start:stop],
            step,
            hyper[LEARNING_RATE],
            hyper[BETA_1],
            hyper[BETA_2],
            hyper[EPSILON],
        )
