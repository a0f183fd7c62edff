"""The implementations the benchmarks compare, behind one small interface.

Each trainer is built for one problem (data, hidden layers, task) and offers
``compile()``, which runs once before timing (JIT compilation, caches), and
``train(epochs)``, which runs that many epochs of mini-batch Adam with the
workload's settings (batch 200, learning rate 1e-3, relu, shuffled batches).
The task is "regression" (identity outputs, one per column of y, squared
error) or "classification" (y holds labels 0..k-1: a softmax over k outputs
and the log loss, as MLPClassifier for k > 2). PyTorch and JAX are optional:
:func:`missing_reason` says why one cannot run.
"""

import importlib.util
import os
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .workload import ALPHA, BATCH_SIZE, LEARNING_RATE

IMPLEMENTATIONS = ("fastbp", "fastbp 1 thread", "scikit-learn", "pytorch", "jax")
# fastbp itself, run otherwise: not a peer.
OWN = ("fastbp", "fastbp 1 thread")
TASKS = ("regression", "classification")
_MODULES = {"pytorch": "torch", "jax": "jax"}


def missing_reason(name):
    """None when ``name`` can run here, else why not."""
    module = _MODULES.get(name)
    if module is not None and importlib.util.find_spec(module) is None:
        return f"{module} is not installed (pip install -e '.[bench]', see README)"
    return None


def available_implementations():
    return [name for name in IMPLEMENTATIONS if missing_reason(name) is None]


def make_trainer(name, X, y, hidden, task="regression"):
    """A trainer of ``name`` for (X, y) and hidden layer widths ``hidden``."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    factory = {
        "fastbp": _EstimatorTrainer.fastbp,
        "fastbp 1 thread": _EstimatorTrainer.fastbp_one_thread,
        "scikit-learn": _EstimatorTrainer.scikit_learn,
        "pytorch": _TorchTrainer,
        "jax": _JaxTrainer,
    }[name]
    return factory(X, y, tuple(hidden), task)


def _n_outputs(y, task):
    """Output units: one per class, or one per column of a regression y."""
    if task == "classification":
        return int(np.max(y)) + 1
    return 1 if np.ndim(y) == 1 else y.shape[1]


class _EstimatorTrainer:
    """fastbp or scikit-learn: ``fit`` with ``max_iter=epochs``."""

    def __init__(self, estimator_class, X, y, hidden):
        self.X, self.y = X, y
        self.model = estimator_class(
            hidden_layer_sizes=hidden,
            activation="relu",
            solver="adam",
            alpha=ALPHA,
            batch_size=BATCH_SIZE,
            learning_rate_init=LEARNING_RATE,
            tol=0.0,
            n_iter_no_change=np.inf,
            random_state=0,
        )

    @classmethod
    def fastbp(cls, X, y, hidden, task="regression"):
        from fastbp import BackpropClassifier, BackpropRegressor

        estimator = {
            "regression": BackpropRegressor,
            "classification": BackpropClassifier,
        }[task]
        return cls(estimator, X, y, hidden)

    @classmethod
    def fastbp_one_thread(cls, X, y, hidden, task="regression"):
        """fastbp held to one thread (``numba.set_num_threads(1)``)."""
        trainer = cls.fastbp(X, y, hidden, task)
        trainer.threads = 1
        return trainer

    @classmethod
    def scikit_learn(cls, X, y, hidden, task="regression"):
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        estimator = {"regression": MLPRegressor, "classification": MLPClassifier}[task]
        return cls(estimator, X, y, hidden)

    def compile(self):
        self._fit(self.X[: 2 * BATCH_SIZE], self.y[: 2 * BATCH_SIZE], 1)

    def train(self, epochs):
        self._fit(self.X, self.y, epochs)

    threads = None  # the library's default

    def _fit(self, X, y, epochs):
        self.model.set_params(max_iter=epochs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if self.threads is None:
                self.model.fit(X, y)
                return
            import numba

            before = numba.get_num_threads()
            numba.set_num_threads(self.threads)
            try:
                self.model.fit(X, y)
            finally:
                numba.set_num_threads(before)


class _TorchTrainer:
    """An ordinary PyTorch loop: torch.nn layers, torch.optim.Adam."""

    def __init__(self, X, y, hidden, task="regression"):
        import torch

        torch.set_num_threads(os.cpu_count())
        torch.manual_seed(0)
        self.torch = torch
        dtype = torch.float64 if X.dtype == np.float64 else torch.float32
        layers, fan_in = [], X.shape[1]
        for width in hidden:
            layers += [torch.nn.Linear(fan_in, width), torch.nn.ReLU()]
            fan_in = width
        layers.append(torch.nn.Linear(fan_in, _n_outputs(y, task)))
        self.model = torch.nn.Sequential(*layers).to(dtype)
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=LEARNING_RATE, betas=(0.9, 0.999), eps=1e-8
        )
        self.X = torch.from_numpy(np.ascontiguousarray(X))
        if task == "classification":
            # log-softmax and the negative log-likelihood of the labels, fused
            self.loss = torch.nn.CrossEntropyLoss()
            self.y = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
        else:
            self.loss = lambda P, Y: 0.5 * ((P - Y) ** 2).mean()
            self.y = torch.from_numpy(np.ascontiguousarray(y)).reshape(X.shape[0], -1)
        self.generator = torch.Generator().manual_seed(0)

    def compile(self):
        self.train(1)

    def train(self, epochs):
        torch = self.torch
        n = self.X.shape[0]
        for _ in range(epochs):
            order = torch.randperm(n, generator=self.generator)
            for start in range(0, n, BATCH_SIZE):
                rows = order[start : start + BATCH_SIZE]
                X_batch, y_batch = self.X[rows], self.y[rows]
                self.optimizer.zero_grad(set_to_none=True)
                loss = self.loss(self.model(X_batch), y_batch)
                loss.backward()
                self.optimizer.step()


class _JaxTrainer:
    """A whole epoch under one jax.jit: lax.scan over the mini-batches."""

    def __init__(self, X, y, hidden, task="regression"):
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        self.jax = jax
        rng = np.random.RandomState(0)
        units = [X.shape[1], *hidden, _n_outputs(y, task)]
        params = []
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            W = rng.uniform(-bound, bound, (fan_in, fan_out)).astype(X.dtype)
            b = rng.uniform(-bound, bound, fan_out).astype(X.dtype)
            params.append((jnp.asarray(W), jnp.asarray(b)))
        m = jax.tree_util.tree_map(jnp.zeros_like, params)
        v = jax.tree_util.tree_map(jnp.zeros_like, params)
        self.state = (params, m, v, jnp.zeros((), X.dtype))
        self.X = jnp.asarray(X)
        if task == "classification":
            self.y = jnp.asarray(y, dtype=jnp.int32)
        else:
            self.y = jnp.asarray(y).reshape(X.shape[0], -1)
        # The permutation is drawn by NumPy: jax.random.permutation sorts,
        # which would cost the JAX peer more than its training on small nets.
        self.random_state = np.random.RandomState(0)
        self.epoch = jax.jit(_jax_epoch_function(jax, jnp, task), donate_argnums=0)

    def compile(self):
        self.train(1)

    def train(self, epochs):
        for _ in range(epochs):
            order = self.random_state.permutation(self.X.shape[0])
            self.state, loss = self.epoch(self.state, self.X, self.y, order)
        loss.block_until_ready()


def _jax_epoch_function(jax, jnp, task="regression"):
    """One epoch of Adam on an MLP: relu hidden layers, then identity outputs
    and the squared error, or a softmax and the log loss of labels y."""
    beta_1, beta_2, epsilon = 0.9, 0.999, 1e-8

    def data_term(Z, y):
        if task == "classification":
            # -log softmax(Z)[y] per sample, from the stable log-softmax
            log_p = jax.nn.log_softmax(Z)
            return -jnp.mean(jnp.take_along_axis(log_p, y[:, None], axis=1))
        return 0.5 * jnp.mean((Z - y) ** 2)

    def loss_fn(params, X, y):
        A = X
        for W, b in params[:-1]:
            A = jax.nn.relu(A @ W + b)
        W, b = params[-1]
        penalty = sum(jnp.sum(W**2) for W, _ in params)
        return data_term(A @ W + b, y) + 0.5 * ALPHA * penalty / X.shape[0]

    value_and_grad = jax.value_and_grad(loss_fn)

    def step(state, batch):
        params, m, v, t = state
        loss, grad = value_and_grad(params, *batch)
        t = t + 1
        m = jax.tree_util.tree_map(lambda m, g: beta_1 * m + (1 - beta_1) * g, m, grad)
        v = jax.tree_util.tree_map(
            lambda v, g: beta_2 * v + (1 - beta_2) * g * g, v, grad
        )
        lr = LEARNING_RATE * jnp.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        params = jax.tree_util.tree_map(
            lambda p, m, v: p - lr * m / (jnp.sqrt(v) + epsilon), params, m, v
        )
        return (params, m, v, t), loss

    def epoch(state, X, y, order):
        n, n_features = X.shape
        X, y = X[order], y[order]
        n_full = n // BATCH_SIZE * BATCH_SIZE
        batches = (
            X[:n_full].reshape(-1, BATCH_SIZE, n_features),
            y[:n_full].reshape(-1, BATCH_SIZE, *y.shape[1:]),
        )
        state, losses = jax.lax.scan(step, state, batches)
        total = jnp.sum(losses) * BATCH_SIZE
        if n_full < n:
            state, loss = step(state, (X[n_full:], y[n_full:]))
            total = total + loss * (n - n_full)
        return state, total / n

    return epoch
