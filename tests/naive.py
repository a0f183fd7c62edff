"""Plain-NumPy reference implementations of fastbp's kernels.

Each function computes, the straightforward vectorised NumPy way, what a
kernel computes in compiled loops. They return new arrays instead of writing
into buffers, and the tests compare both. Activations are named by string
(``"identity"``, ``"logistic"``, ``"tanh"``, ``"relu"``), never by code.
"""

import itertools

import numpy as np

RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


def assert_close(actual, desired, dtype):
    """Assert agreement to the dtype's rtol, relative to each value or to the
    largest one (sums with cancellation are only accurate to the latter)."""
    rtol = RTOL[np.dtype(dtype)]
    desired = np.asarray(desired, dtype=np.float64)
    atol = rtol * max(float(np.max(np.abs(desired), initial=0.0)), 1e-300)
    np.testing.assert_allclose(
        np.asarray(actual, dtype=np.float64), desired, rtol=rtol, atol=atol
    )


# ----------------------------------------------------------------- activations


def activate(Z, name):
    """f(Z) for the activation ``name``."""
    if name == "identity":
        return Z.copy()
    if name == "logistic":
        return 1.0 / (1.0 + np.exp(-Z))
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.where(Z < 0, 0.0, Z)  # keeps NaN, unlike np.maximum(Z, 0)
    if name == "leaky_relu":
        return np.where(Z < 0, 0.01 * Z, Z)
    if name == "elu":
        return np.where(Z < 0, np.expm1(np.minimum(Z, 0.0)), Z)
    raise ValueError(name)


def derivative(A, name):
    """f'(Z) expressed from the forward output A = f(Z)."""
    if name == "identity":
        return np.ones_like(A)
    if name == "logistic":
        return A * (1.0 - A)
    if name == "tanh":
        return 1.0 - A**2
    if name == "relu":
        return (A != 0).astype(A.dtype)
    if name == "leaky_relu":
        return np.where(A > 0, 1.0, 0.01).astype(A.dtype)
    if name == "elu":  # exp(Z) = A + 1 where Z < 0
        return np.where(A > 0, 1.0, A + 1.0).astype(A.dtype)
    raise ValueError(name)


# ----------------------------------------------------------------------- loss


def squared_error(P, Y, w):
    """0.5 * weighted mean over samples of the mean squared error over outputs."""
    return 0.5 * np.average(((P - Y) ** 2).mean(axis=1), weights=w)


def squared_error_delta(P, Y, w):
    """Output-layer error w_i (P_ij - Y_ij)."""
    return w[:, None] * (P - Y)


def loss(name, P, Y, w, huber_delta=1.0):
    """Weighted mean over samples of each loss's per-sample value."""
    E = P - Y
    if name == "squared_error":
        per_sample = 0.5 * (E**2).mean(axis=1)
    elif name == "absolute_error":
        per_sample = np.abs(E).mean(axis=1)
    elif name == "huber":
        quadratic = np.abs(E) <= huber_delta
        h = np.where(quadratic, 0.5 * E**2, huber_delta * (np.abs(E) - huber_delta / 2))
        per_sample = h.mean(axis=1)
    elif name == "poisson":  # half deviance, as scikit-learn: summed over outputs
        ratio = np.where(Y > 0, Y / np.where(Y > 0, P, 1.0), 1.0)
        per_sample = (Y * np.log(ratio) - Y + P).sum(axis=1)
    else:
        raise ValueError(name)
    return np.average(per_sample, weights=w)


def loss_delta(name, P, Y, w, huber_delta=1.0):
    """w_i times dl/dP (dl/dZ for Poisson), summed-over-outputs convention."""
    E = P - Y
    if name == "absolute_error":
        G = np.sign(E)
    elif name == "huber":
        G = np.clip(E, -huber_delta, huber_delta)
    else:
        G = E
    return w[:, None] * G


# --------------------------------------------------------------------- layout


def pack(coefs, intercepts):
    """All weight matrices, then all intercepts, raveled into one vector."""
    return np.concatenate([np.ravel(a) for a in [*coefs, *intercepts]])


def unpack(params, units):
    """Inverse of :func:`pack`: lists of (fan_in, fan_out) and (fan_out,)."""
    shapes = [(i, o) for i, o in itertools.pairwise(units)]
    shapes += [(o,) for o in units[1:]]
    sizes = [int(np.prod(s)) for s in shapes]
    parts = np.split(params, np.cumsum(sizes)[:-1])
    arrays = [p.reshape(s) for p, s in zip(parts, shapes)]
    n_weight_layers = len(units) - 1
    return arrays[:n_weight_layers], arrays[n_weight_layers:]


# ---------------------------------------------------------------------- dense


def dense_forward(A_prev, W, b, name):
    """f(A_prev @ W + b)."""
    return activate(A_prev @ W + b, name)


def dense_gradient(A_prev, delta, W, alpha, weight_sum):
    """(A_prev.T @ delta + alpha W) / weight_sum and delta.sum(0) / weight_sum."""
    return (A_prev.T @ delta + alpha * W) / weight_sum, delta.sum(axis=0) / weight_sum


def dense_backward(delta, W, A_prev, name):
    """(delta @ W.T) * f'(Z_prev), with A_prev = f(Z_prev)."""
    return (delta @ W.T) * derivative(A_prev, name)


# -------------------------------------------------------------------- network


def forward(coefs, intercepts, names, X):
    """Every layer's output, the input first; ``names[l]`` is layer l + 1's."""
    acts = [X]
    for W, b, name in zip(coefs, intercepts, names):
        acts.append(dense_forward(acts[-1], W, b, name))
    return acts


def penalized_loss(coefs, intercepts, names, X, Y, w, alpha):
    """Batch loss plus the L2 term 0.5 alpha ||W||^2 / sum(w)."""
    P = forward(coefs, intercepts, names, X)[-1]
    l2 = sum(np.sum(W**2) for W in coefs)
    return squared_error(P, Y, w) + 0.5 * alpha * l2 / w.sum()


def backprop(coefs, intercepts, names, X, Y, w, alpha):
    """Loss and (coef_grads, intercept_grads) of one batch.

    The output delta includes the output activation's derivative; like
    scikit-learn, it is not divided by n_outputs.
    """
    acts = forward(coefs, intercepts, names, X)
    weight_sum = w.sum()
    delta = squared_error_delta(acts[-1], Y, w) * derivative(acts[-1], names[-1])
    coef_grads = [None] * len(coefs)
    intercept_grads = [None] * len(coefs)
    for layer in reversed(range(len(coefs))):
        coef_grads[layer], intercept_grads[layer] = dense_gradient(
            acts[layer], delta, coefs[layer], alpha, weight_sum
        )
        if layer > 0:
            delta = dense_backward(delta, coefs[layer], acts[layer], names[layer - 1])
    value = penalized_loss(coefs, intercepts, names, X, Y, w, alpha)
    return value, coef_grads, intercept_grads


def flat_backprop(params, units, names, X, Y, w, alpha):
    """:func:`backprop` on a flat parameter vector; returns (loss, grad)."""
    coefs, intercepts = unpack(params, units)
    value, coef_grads, intercept_grads = backprop(
        coefs, intercepts, names, X, Y, w, alpha
    )
    return value, pack(coef_grads, intercept_grads)


def predict(params, units, names, X):
    """The network's output for every row of X."""
    coefs, intercepts = unpack(params, units)
    return forward(coefs, intercepts, names, X)[-1]


# ----------------------------------------------------------------- optimizers


def sgd(params, grad, velocity, learning_rate, momentum, nesterov):
    """One (Nesterov) momentum step; returns new (params, velocity)."""
    velocity = momentum * velocity - learning_rate * grad
    if nesterov:
        return params + momentum * velocity - learning_rate * grad, velocity
    return params + velocity, velocity


def adam(params, grad, m, v, step, learning_rate, beta_1, beta_2, epsilon):
    """One Adam step numbered ``step`` (from 1); returns (params, m, v)."""
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad**2
    m_hat = m / (1 - beta_1**step)
    v_hat = v / (1 - beta_2**step)
    # Same as scikit-learn's update, with epsilon rescaled by the bias
    # correction of v (that is where the corrections are folded in).
    eps = epsilon / np.sqrt(1 - beta_2**step)
    return params - learning_rate * m_hat / (np.sqrt(v_hat) + eps), m, v


def run_epoch(
    X, Y, w, order, batch_size, params, units, names, alpha, solver, state, step, hyper
):
    """One epoch of mini-batch training; returns (params, state, total, step).

    ``hyper`` is a dict of the optimizer's hyper-parameters; ``state`` is
    (2, n_params): velocity, or Adam's first and second moments.
    """
    params, state = params.copy(), state.copy()
    total = 0.0
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        if w[rows].sum() == 0:
            continue
        value, grad = flat_backprop(
            params, units, names, X[rows], Y[rows], w[rows], alpha
        )
        total += value * len(rows)
        step += 1
        if solver == "sgd":
            params, state[0] = sgd(
                params,
                grad,
                state[0],
                hyper["learning_rate"],
                hyper["momentum"],
                hyper["nesterov"],
            )
        else:
            params, state[0], state[1] = adam(
                params,
                grad,
                state[0],
                state[1],
                step,
                hyper["learning_rate"],
                hyper["beta_1"],
                hyper["beta_2"],
                hyper["epsilon"],
            )
    return params, state, total, step
