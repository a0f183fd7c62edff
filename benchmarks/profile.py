"""Where a mini-batch's time goes: fastbp's backprop, step by step.

Run ``python -m benchmarks.profile`` (default sizes) or, for one network,
``python -m benchmarks.profile --hidden 1024 --dtype float32``. For each
network it times, in microseconds per mini-batch of the benchmark workload
(batch 200, relu, adam), every step that ``_network.run_epoch`` takes: the
gather of the batch's rows; per layer the forward pass, the gradient and the
backward pass, each with the share of its BLAS product; the loss and output
error; the optimizer's update. It compares their sum with a whole epoch
measured by ``run_epoch`` itself, divided by the number of batches: the
difference is what calls and cache misses between the steps cost.

``--classes K`` profiles BackpropClassifier on the workload's K-class labels
(softmax output and log loss: the softmax is in the output layer's forward
step, the log loss in "loss and output error"); ``--outputs K`` the regressor
with K identity outputs on the same labels' one-hot targets, the network to
compare it with.

Each step is repeated inside one compiled loop, so that no Python call is
timed, with the BLAS threads that training uses (see ``fastbp._threads``).
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from fastbp import BackpropClassifier, BackpropRegressor
from fastbp._activations import add_bias_and_activate, multiply_by_derivative
from fastbp._dense import dense_backward, dense_forward, dense_gradient
from fastbp._jit import jit
from fastbp._layout import coef_view, intercept_view, layer_view
from fastbp._loss import error_includes_derivative, loss_delta, loss_value
from fastbp._network import batch_workspaces, gather_rows, run_epoch
from fastbp._team import solo
from fastbp._optimizers import SOLVER_CODES, optimizer_hyperparameters, optimizer_step
from fastbp._threads import one_blas_thread

from .machine import machine_info
from .workload import (
    ALPHA,
    BATCH_SIZE,
    LEARNING_RATE,
    N_FEATURES,
    make_classification_data,
    make_data,
    one_hot,
)

DEFAULT_SIZES = ((16,), (64,), (64,) * 4, (256,) * 2, (256,) * 8, (1024,))
# Each step is repeated until about this much time has passed.
TARGET_SECONDS = 0.05


@jit
def _repeat_product(A, B, out, reps):
    for _ in range(reps):
        np.dot(A, B, out)


@jit
def _repeat_forward(A_prev, W, b, A, code, reps):
    alone = solo()
    for _ in range(reps):
        dense_forward(A_prev, W, b, A, code, 1, alone)


@jit
def _repeat_gradient(A_prev, delta, W, dW, db, reps):
    alone = solo()
    for _ in range(reps):
        dense_gradient(A_prev, delta, W, ALPHA, 1.0 * A_prev.shape[0], dW, db, 1, alone)


@jit
def _repeat_backward(delta, W, A_prev, code, delta_prev, scratch, reps):
    alone = solo()
    for _ in range(reps):
        dense_backward(delta, W, A_prev, code, delta_prev, scratch, 1, alone)


@jit
def _repeat_output_error(P, Y, w, delta, code, loss_spec, reps):
    loss_code, huber_delta = loss_spec
    total = 0.0
    for _ in range(reps):
        total += loss_value(P, Y, w, loss_code, huber_delta)
        loss_delta(P, Y, w, delta, 1.0, loss_code, huber_delta)
        if not error_includes_derivative(loss_code, code):
            multiply_by_derivative(P, delta, code)
    return total


@jit
def _repeat_optimizer(solver, params, grad, state, hyper, reps):
    for step in range(1, reps + 1):
        optimizer_step(solver, params, grad, state, step, hyper)


@jit
def _repeat_gather(data, order, units, workspaces, reps):
    alone = solo()
    batch_rows = workspaces[2].shape[0]
    n_batches = order.shape[0] // batch_rows
    for r in range(reps):
        start = (r % n_batches) * batch_rows
        gather_rows(data, order, start, batch_rows, units, workspaces, alone)


@jit
def _repeat_activation(Z, b, code, reps):
    for _ in range(reps):
        add_bias_and_activate(Z, b, code)


def _microseconds(function, *args):
    """Median time of one repetition, in microseconds."""
    function(*args, 1)
    start = time.perf_counter()
    function(*args, 3)
    reps = max(3, int(TARGET_SECONDS / max((time.perf_counter() - start) / 3, 1e-7)))
    times = []
    for _ in range(5):
        start = time.perf_counter()
        function(*args, reps)
        times.append((time.perf_counter() - start) / reps)
    return float(np.median(times)) * 1e6


def _problem(dtype, classes, outputs):
    """(estimator class, X, y, encoded targets Y) of the profiled network."""
    if classes is not None:
        X, labels = make_classification_data(dtype, n_classes=classes)
        return BackpropClassifier, X, labels, one_hot(labels, classes, dtype)
    if outputs > 1:
        X, labels = make_classification_data(dtype, n_classes=outputs)
        Y = one_hot(labels, outputs, dtype)
        return BackpropRegressor, X, Y, Y
    X, y = make_data(dtype)
    return BackpropRegressor, X, y, y.reshape(-1, 1)


class _Batch:
    """A network fitted for one epoch, with run_epoch's workspaces filled.

    ``classes``: a classifier of that many classes; else a regressor with
    ``outputs`` outputs (see :func:`_problem`).
    """

    def __init__(self, hidden, dtype, classes=None, outputs=1):
        estimator, X, y, Y = _problem(dtype, classes, outputs)
        self.model = estimator(
            hidden, batch_size=BATCH_SIZE, learning_rate_init=LEARNING_RATE,
            alpha=ALPHA, max_iter=1, random_state=0,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit(X, y)
        m = self.model
        self.network = m._network
        self.units, self.offsets, self.codes = self.network
        self.params, self.dtype = m._params, X.dtype
        self.X, self.Y = X, np.ascontiguousarray(Y)
        self.w = np.ones(X.shape[0], X.dtype)
        self.data = (self.X, self.Y, self.w)
        self.order = np.random.RandomState(0).permutation(X.shape[0])
        self.workspaces = batch_workspaces(self.units, BATCH_SIZE, X.dtype)
        self.acts, self.deltas, self.Y_batch, self.w_batch, self.scratch = (
            self.workspaces
        )
        self.grad = np.zeros_like(self.params)
        self.hyper = optimizer_hyperparameters(
            LEARNING_RATE, 0.9, True, 0.9, 0.999, 1e-8
        )
        gather_rows(self.data, self.order, 0, BATCH_SIZE, self.units, self.workspaces,
                    solo())  # fmt: skip
        rng = np.random.default_rng(0)
        self.deltas[:] = rng.standard_normal(self.deltas.shape[0])

    def layer(self, layer):
        """(A_prev, W, b, A, dW, db, delta) of weight layer ``layer``."""
        u, o = self.units, self.offsets
        return (
            layer_view(self.acts, u, layer, BATCH_SIZE),
            coef_view(self.params, u, o, layer),
            intercept_view(self.params, u, o, layer),
            layer_view(self.acts, u, layer + 1, BATCH_SIZE),
            coef_view(self.grad, u, o, layer),
            intercept_view(self.grad, u, o, layer),
            layer_view(self.deltas, u, layer + 1, BATCH_SIZE),
        )

    def epoch_microseconds_per_batch(self):
        """run_epoch over the 8192 rows, per batch (median of 5)."""
        state = self.model._optimizer_state.copy()
        params = self.params.copy()

        optimizer = (SOLVER_CODES["adam"], state, self.hyper)

        alone = solo()

        def epoch(reps):
            for _ in range(reps):
                run_epoch(
                    self.data, self.order, BATCH_SIZE, params, self.grad,
                    self.network, ALPHA, self.model._loss_spec, self.workspaces,
                    optimizer, 1, 1, alone,
                )  # fmt: skip

        n_batches = -(-self.X.shape[0] // BATCH_SIZE)
        return _microseconds(lambda reps: epoch(reps)) / n_batches


def profile(hidden, dtype, classes=None, outputs=1):
    """Rows (step, microseconds per batch, of which BLAS) for one network,
    and run_epoch's time per batch.

    ``classes``: profile BackpropClassifier with that many classes (softmax
    output for more than two, log loss); else BackpropRegressor with
    ``outputs`` identity outputs.
    """
    batch = _Batch(hidden, dtype, classes, outputs)
    rows = []

    def step(name, function, args, product_args=None):
        blas = _microseconds(_repeat_product, *product_args) if product_args else 0.0
        rows.append((name, _microseconds(function, *args), blas))

    n_layers = batch.units.shape[0] - 1
    with one_blas_thread():
        step("gather rows", _repeat_gather,
             (batch.data, batch.order, batch.units, batch.workspaces))  # fmt: skip
        for layer in range(n_layers):
            A_prev, W, b, A, _, _, _ = batch.layer(layer)
            code = batch.codes[layer]
            step(f"layer {layer + 1} ({W.shape[0]}x{W.shape[1]}) forward",
                 _repeat_forward, (A_prev, W, b, A, code), (A_prev, W, A))  # fmt: skip
            _repeat_activation(A, b, code, 1)  # realistic inputs for the next
        _, _, _, P, _, _, delta = batch.layer(n_layers - 1)
        step("loss and output error", _repeat_output_error,
             (P, batch.Y_batch, batch.w_batch, delta, batch.codes[-1],
              batch.model._loss_spec))  # fmt: skip
        for layer in range(n_layers - 1, -1, -1):
            A_prev, W, _, _, dW, db, delta = batch.layer(layer)
            name = f"layer {layer + 1} ({W.shape[0]}x{W.shape[1]})"
            step(f"{name} gradient", _repeat_gradient,
                 (A_prev, delta, W, dW, db), (A_prev.T, delta, dW))  # fmt: skip
            if layer > 0:
                delta_prev = batch.layer(layer - 1)[6]
                step(f"{name} backward", _repeat_backward,
                     (delta, W, A_prev, batch.codes[layer - 1], delta_prev,
                      batch.scratch),
                     (delta, W.T, delta_prev))  # fmt: skip
        step("optimizer (adam)", _repeat_optimizer,
             (SOLVER_CODES["adam"], batch.params.copy(), batch.grad,
              batch.model._optimizer_state.copy(), batch.hyper))  # fmt: skip
        measured = batch.epoch_microseconds_per_batch()
    return rows, measured


def format_profile(hidden, dtype, rows, measured, what="regressor"):
    """A Markdown table of one network's profile."""
    total = sum(row[1] for row in rows)
    blas = sum(row[2] for row in rows)
    lines = [
        f"### {what}, {dtype}, hidden {hidden} (input {N_FEATURES}, "
        f"batch {BATCH_SIZE})",
        "",
        "| step | us per batch | of which BLAS | share |",
        "|---|---|---|---|",
    ]
    for name, micro, blas_micro in rows:
        blas_text = f"{blas_micro:.1f}" if blas_micro else ""
        lines.append(f"| {name} | {micro:.1f} | {blas_text} | {micro / total:.0%} |")
    lines += [
        f"| **sum of steps** | {total:.1f} | {blas:.1f} | BLAS {blas / total:.0%} |",
        f"| **run_epoch per batch** | {measured:.1f} | | |",
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, nargs="+", help="hidden layer widths")
    parser.add_argument("--dtype", choices=["float64", "float32", "both"],
                        default="both")  # fmt: skip
    task = parser.add_mutually_exclusive_group()
    task.add_argument("--classes", type=int, default=None,
                      help="profile the classifier with this many classes")  # fmt: skip
    task.add_argument("--outputs", type=int, default=1,
                      help="regressor outputs, on one-hot targets")  # fmt: skip
    args = parser.parse_args(argv)
    if args.classes is not None:
        what = f"classifier, {args.classes} classes"
    else:
        what = f"regressor, {args.outputs} output{'s' if args.outputs > 1 else ''}"
    sizes = [tuple(args.hidden)] if args.hidden else DEFAULT_SIZES
    dtypes = ["float64", "float32"] if args.dtype == "both" else [args.dtype]
    info = machine_info()
    versions = info["versions"]
    print(f"{info['cpu']}, {info['cores']} cores, Python {info['python']}, "
          f"numpy {versions['numpy']}, numba {versions['numba']}\n")  # fmt: skip
    for dtype in dtypes:
        for hidden in sizes:
            rows, measured = profile(hidden, dtype, args.classes, args.outputs)
            table = format_profile(hidden, dtype, rows, measured, what)
            print(table, flush=True)


if __name__ == "__main__":
    main()
