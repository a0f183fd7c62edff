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
def sgd_update(params, grad, velocity, learning_rate, momentum, nesterov):
    """One SGD step with (Nesterov) momentum; updates params and velocity.

    ``v <- momentum * v - lr * g``; the step is ``v``, or with Nesterov's
    momentum ``momentum * v - lr * g``.
    """
    for i in range(params.shape[0]):
        v = momentum * velocity[i] - learning_rate * grad[i]
        velocity[i] = v
        if nesterov:
            params[i] += momentum * v - learning_rate * grad[i]
        else:
            params[i] += v


@jit
def adam_update(params, grad, m, v, step, learning_rate, beta_1, beta_2, epsilon):
    """One Adam step (``step`` counts from 1); updates params, m and v.

    The bias corrections are folded into the step size:
    ``lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``.
    """
    lr_t = learning_rate * np.sqrt(1.0 - beta_2**step) / (1.0 - beta_1**step)
    for i in range(params.shape[0]):
        g = grad[i]
        m[i] = beta_1 * m[i] + (1.0 - beta_1) * g
        v[i] = beta_2 * v[i] + (1.0 - beta_2) * (g * g)
        params[i] += -lr_t * m[i] / (np.sqrt(v[i]) + epsilon)


@jit
def optimizer_step(solver, params, grad, state, step, hyper):
    """Apply one update of ``solver`` (SGD or ADAM).

    ``state`` (2, n_params) holds the velocity (SGD) or the first and second
    moments (Adam); ``step`` is the 1-based number of this update.
    """
    if solver == SGD:
        sgd_update(
            params,
            grad,
            state[0],
            hyper[LEARNING_RATE],
            hyper[MOMENTUM],
            hyper[NESTEROV] != 0.0,
        )
    else:
        adam_update(
            params,
            grad,
            state[0],
            state[1],
            step,
            hyper[LEARNING_RATE],
            hyper[BETA_1],
            hyper[BETA_2],
            hyper[EPSILON],
        )
