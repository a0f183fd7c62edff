"""Whole-network kernels: backprop on a batch, a fused epoch, prediction.

A network travels as one value, ``network = (units, offsets, codes)``:
``units`` the units per layer (input and output included), ``offsets``
where each layer's parameters start in the flat buffer (see
``_layout.parameter_offsets``), ``codes`` the activation code of each weight
layer's output (the hidden layers', then the output layer's). A loss travels
as ``loss_spec = (loss code, Huber threshold)`` (see ``_loss``).

Workspaces are allocated by the caller once per fit
(:func:`batch_workspaces`): ``acts`` and ``deltas`` hold one
(batch_capacity, units[l]) block per layer (see ``_layout.layer_view``),
``Y_batch`` (batch_capacity, n_outputs) and ``w_batch`` (batch_capacity,)
the gathered targets and sample weights. No kernel here allocates inside
its mini-batch loop.
"""

import numpy as np

from ._activations import multiply_by_derivative
from ._borrow import borrow
from ._dense import dense_backward, dense_forward, dense_gradient
from ._gemm import MR, sum_of_squares
from ._jit import jit
from ._layout import coef_view, intercept_view, layer_view
from ._loss import error_includes_derivative, loss_delta, weight_total, weighted_loss
from ._parallel import split_optimizer_step
from ._team import aborted, barrier, part, solo
from ._sparse import (
    batch_input,
    gather_input,
    input_chunk,
    input_forward,
    input_gradient,
    kernel_input,
)


@jit
def forward(params, network, inputs, acts, n_rows, threads, team):
    """Fill every layer's activations from the batch ``inputs`` (dense, or
    sparse: see ``_sparse``); ``acts``' layer 0 is not read. The members of
    a ``team`` (see ``_team``) compute a part of each layer, then meet."""
    units, offsets, codes = network
    input_forward(
        inputs,
        coef_view(params, units, offsets, 0),
        intercept_view(params, units, offsets, 0),
        layer_view(acts, units, 1, n_rows),
        codes[0],
        threads,
        team,
    )
    barrier(team)
    for layer in range(1, units.shape[0] - 1):
        dense_forward(
            layer_view(acts, units, layer, n_rows),
            coef_view(params, units, offsets, layer),
            intercept_view(params, units, offsets, layer),
            layer_view(acts, units, layer + 1, n_rows),
            codes[layer],
            threads,
            team,
        )
        barrier(team)


@jit
def backprop(
    params, grad, network, alpha, loss_spec, inputs, acts, deltas, scratch, Y, w,
    n_rows, output_scale, threads, team,
):  # fmt: skip
    """Loss and gradient of one batch whose input is ``inputs`` (an (n_rows,
    n_features) array, or a sparse batch: see ``_sparse``).

    ``scratch`` takes a layer's transposed weights (see
    :func:`batch_workspaces`); large products are split between
    ``threads`` threads, with the same results (see ``_parallel``).

    Runs the forward pass and returns the batch's loss (with its L2 term).
    Writes into ``grad`` (same layout as ``params``) the gradient of the
    L2-penalised loss whose data term is multiplied by
    ``n_outputs * output_scale`` for a loss averaged over outputs (and by
    ``output_scale`` for one summed over them): ``output_scale = 1`` is
    scikit-learn's convention for its stochastic solvers,
    ``_loss.gradient_scale`` the gradient of the returned loss itself (see
    ``_loss``; the same for one output). A batch whose weights sum to zero
    contributes nothing: its gradient is zero and its loss is 0.

    The members of a ``team`` (see ``_team``; ``_team.solo()`` for one
    thread) each compute a part of every step, meeting between steps; member
    0 computes the loss and the output error, and returns the loss (the
    others return 0).
    """
    return weighted_backprop(
        params, grad, network, alpha, loss_spec, inputs, acts, deltas, scratch,
        Y, w, weight_total(w[:n_rows]), n_rows, output_scale, threads, team,
    )  # fmt: skip


@jit
def weighted_backprop(
    params, grad, network, alpha, loss_spec, inputs, acts, deltas, scratch, Y, w,
    weight_sum, n_rows, output_scale, threads, team,
):  # fmt: skip
    """:func:`backprop` on a batch whose weights ``w`` sum to ``weight_sum``
    (``_loss.weight_total``)."""
    units, offsets, codes = network
    L = units.shape[0] - 1
    loss_code, huber_delta = loss_spec
    if weight_sum == 0.0:
        start, stop = part(grad.shape[0], MR, team)
        grad[start:stop] = 0.0
        return 0.0
    forward(params, network, inputs, acts, n_rows, threads, team)
    loss = 0.0
    if team[1] == 0:
        P = layer_view(acts, units, L, n_rows)
        loss = weighted_loss(P, Y, w, weight_sum, loss_code, huber_delta)
        loss += 0.5 * alpha * sum_of_squares(params, offsets[L]) / weight_sum

        # Output layer: dLoss/dZ = w dLoss/dP * f'(Z), where for a canonical
        # (loss, output) pair dLoss/dP * f'(Z) is simply P - Y.
        delta = layer_view(deltas, units, L, n_rows)
        loss_delta(P, Y, w, delta, output_scale, loss_code, huber_delta)
        if not error_includes_derivative(loss_code, codes[L - 1]):
            multiply_by_derivative(P, delta, codes[L - 1])
    barrier(team)
    for layer in range(L - 1, 0, -1):
        W = coef_view(params, units, offsets, layer)
        delta = layer_view(deltas, units, layer + 1, n_rows)
        A_prev = layer_view(acts, units, layer, n_rows)
        dense_gradient(
            A_prev,
            delta,
            W,
            alpha,
            weight_sum,
            coef_view(grad, units, offsets, layer),
            intercept_view(grad, units, offsets, layer),
            threads,
            team,
        )
        dense_backward(
            delta,
            W,
            A_prev,
            codes[layer - 1],
            layer_view(deltas, units, layer, n_rows),
            scratch,
            threads,
            team,
        )
        barrier(team)
    input_gradient(
        inputs,
        layer_view(deltas, units, 1, n_rows),
        coef_view(params, units, offsets, 0),
        alpha,
        weight_sum,
        coef_view(grad, units, offsets, 0),
        intercept_view(grad, units, offsets, 0),
        threads,
        team,
    )
    barrier(team)
    return loss


def scratch_size(units):
    """Elements of the scratch that takes a layer's W.T, packed in panels of
    whole tiles (see ``_gemm.pack_transposed``): the largest layer's."""
    return int(((units[:-1] + 64) * units[1:]).max())


def batch_workspaces(units, n_rows, dtype):
    """Workspaces for batches of up to ``n_rows`` rows, allocated once.

    Returns ``(acts, deltas, Y_batch, w_batch, scratch)``: every layer's
    activations and errors (see ``_layout.layer_view``; ``acts``' layer 0
    takes the gathered input), the gathered targets and sample weights, and
    room for the largest layer's transposed weights.
    """
    acts = np.empty(n_rows * int(units.sum()), dtype)
    deltas = np.empty_like(acts)
    Y_batch = np.empty((n_rows, int(units[-1])), dtype)
    w_batch = np.empty(n_rows, dtype)
    scratch = np.empty(scratch_size(units), dtype)
    return acts, deltas, Y_batch, w_batch, scratch


@jit
def gather_rows(data, order, start, n_rows, units, workspaces, team):
    """Gather rows ``order[start:start + n_rows]`` of ``data = (X, Y,
    sample_weight)``: Y's and the weights into the batch workspaces, X's as
    the batch's input, returned (a dense X's rows copied into ``acts``'
    layer 0; a sparse X's batch, see ``_sparse``). A member of a ``team``
    gathers a block of the rows, then meets the others."""
    X, Y, sample_weight = data
    acts, _, Y_batch, w_batch, _ = workspaces
    rows = order[start : start + n_rows]
    A0 = layer_view(acts, units, 0, n_rows)
    first, last = part(n_rows, MR, team)
    if Y.shape[1] == 1:  # one output: no inner loop (measured 3x faster)
        for r in range(first, last):
            src = rows[r]
            Y_batch[r, 0] = Y[src, 0]
            w_batch[r] = sample_weight[src]
    else:
        for r in range(first, last):
            src = rows[r]
            for j in range(Y.shape[1]):
                Y_batch[r, j] = Y[src, j]
            w_batch[r] = sample_weight[src]
    gather_input(X, rows[first:last], A0[first:last])
    barrier(team)
    return batch_input(X, rows, A0)


@jit
def run_epoch(
    data, order, batch_size, params, grad, network, alpha, loss_spec, workspaces,
    optimizer, step, threads, team,
):  # fmt: skip
    """Train on every mini-batch of one epoch; return the summed batch loss.

    ``data = (X, Y, sample_weight)``; ``optimizer = (solver code, state,
    hyper)`` (see ``_optimizers.optimizer_step``); ``workspaces`` from
    :func:`batch_workspaces`. Mini-batches are consecutive slices of
    ``order`` (the sample permutation) of ``batch_size`` rows, the last one
    possibly shorter. For each: gather, forward, backward, one optimizer
    update (numbered from ``step + 1``); large products on ``threads``
    threads. Returns the sum over batches of
    ``batch_loss * batch_rows``, as scikit-learn accumulates it, and the
    number of the last update done (a batch whose weights sum to zero is
    skipped and does not count).

    Every member of a ``team`` (see ``_team``; ``_team.solo()`` for one
    thread) runs this epoch, each computing its part of every step; the
    summed loss is member 0's.
    """
    # The caller holds every array for the call: no reference counting in
    # the loop (see _borrow).
    data, order, params, grad, network, workspaces, optimizer, team = borrow(
        (data, order, params, grad, network, workspaces, optimizer, team)
    )
    units = network[0]
    acts, deltas, Y_batch, w_batch, scratch = workspaces
    solver, state, hyper = optimizer
    n = order.shape[0]
    total = 0.0
    n_batches = (n + batch_size - 1) // batch_size
    for batch in range(n_batches):
        start = batch * batch_size
        stop = min(start + batch_size, n)
        n_rows = stop - start
        # The members meet at the end of gather_rows: the updates of the
        # last batch are then done, the rows of this one gathered.
        inputs = gather_rows(data, order, start, n_rows, units, workspaces, team)
        weight_sum, zero_weight = _batch_weight(w_batch[:n_rows])
        if zero_weight:
            # A batch of zero weight contributes nothing. Every member reads
            # the weights before any gathers the next batch's.
            barrier(team)
            continue
        loss = weighted_backprop(
            params, grad, network, alpha, loss_spec, inputs, acts, deltas, scratch,
            Y_batch[:n_rows], w_batch[:n_rows], weight_sum, n_rows, 1.0, threads,
            team,
        )  # fmt: skip
        total += loss * n_rows
        step += 1
        if aborted(team):
            break  # the team was dismissed: no more updates
        split_optimizer_step(solver, params, grad, state, step, hyper, threads, team)
    barrier(team)
    return total, step


@jit(inline="always")
def _batch_weight(w):
    """A batch's weight (``_loss.weight_total``) and whether ``w.sum()``,
    added in ``w``'s dtype, is zero (the batch is then skipped): both sums
    in one pass, in order."""
    total = 0.0
    in_dtype = w.dtype.type(0.0)
    for i in range(w.shape[0]):
        total += w[i]
        in_dtype += w[i]
    return total, in_dtype == 0.0


@jit
def predict(X, params, network, chunk_rows, out):
    """Write the network's output for every row of ``X`` (dense, or a sparse
    matrix: see ``_sparse``) into ``out``.

    Rows go through the network ``chunk_rows`` at a time, between two
    workspaces allocated once per call.
    """
    units, offsets, codes = network
    n = out.shape[0]
    L = units.shape[0] - 1
    width = units.max()
    buffers = np.empty((2, chunk_rows * width), dtype=params.dtype)
    rows = np.empty(chunk_rows, dtype=np.int64)
    alone = solo()
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        A = _chunk_output(buffers, out, units, 0, start, stop)
        input_forward(
            input_chunk(X, rows, start, stop),
            coef_view(params, units, offsets, 0),
            intercept_view(params, units, offsets, 0),
            A,
            codes[0],
            1,
            alone,
        )
        for layer in range(1, L):
            A_prev = A
            A = _chunk_output(buffers, out, units, layer, start, stop)
            dense_forward(
                A_prev,
                coef_view(params, units, offsets, layer),
                intercept_view(params, units, offsets, layer),
                A,
                codes[layer],
                1,
                alone,
            )


@jit(inline="always")
def _chunk_output(buffers, out, units, layer, start, stop):
    """Where weight layer ``layer`` writes the chunk ``start:stop``: the
    output rows for the last layer, else one of the two buffers in turn."""
    if layer == units.shape[0] - 2:
        return out[start:stop]
    n_rows, width = stop - start, units[layer + 1]
    return buffers[layer % 2, : n_rows * width].reshape(n_rows, width)


class FullBatch:
    """Loss and gradient over all of (X, Y) as one batch.

    The workspaces are allocated, and the rows gathered, once; each call then
    runs :func:`backprop` on the given parameters. For full-batch optimizers
    (L-BFGS) and gradient checks.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), C-contiguous, or CSR matrix
        A CSR matrix (canonical, in Y's dtype) trains sparse (see ``_sparse``).
    Y : ndarray of shape (n_samples, n_outputs), C-contiguous
    sample_weight : ndarray of shape (n_samples,)
    network : tuple of (units, offsets, codes)
        The network, as described in this module's docstring.
    alpha : float
    output_scale : float, default=1.0
        See :func:`backprop`.
    loss_spec : tuple of (int, float), default=(0, 1.0)
        Loss code and Huber threshold (see ``_loss``); squared error by default.
    threads : int, default=1
        Threads for the large products (the same results with any number).
    """

    def __init__(self, X, Y, sample_weight, network, alpha, output_scale=1.0,
                 loss_spec=(0, 1.0), threads=1):  # fmt: skip
        from ._threads import threading_layer

        threading_layer()  # before any kernel runs (see ``_parallel``)
        n_samples = X.shape[0]
        self.threads = int(threads)
        self.network, self.alpha = network, float(alpha)
        self.workspaces = batch_workspaces(network[0], n_samples, Y.dtype)
        self.output_scale = output_scale
        self.loss_spec = (int(loss_spec[0]), float(loss_spec[1]))
        self.rows = np.arange(n_samples)
        self.team = solo()
        self.inputs = gather_rows(
            (kernel_input(X), Y, sample_weight), self.rows, 0,
            n_samples, network[0], self.workspaces, self.team,
        )  # fmt: skip

    def __call__(self, params, grad=None):
        """Return (loss, grad) at ``params``; ``grad`` is written if given."""
        acts, deltas, Y, w, scratch = self.workspaces
        grad = np.empty_like(params) if grad is None else grad
        loss = backprop(params, grad, self.network, self.alpha, self.loss_spec,
                        self.inputs, acts, deltas, scratch, Y, w, Y.shape[0],
                        self.output_scale, self.threads, self.team)  # fmt: skip
        return loss, grad


def loss_and_gradient(params, X, Y, sample_weight, network, alpha,
                      output_scale=1.0, loss_spec=(0, 1.0)):  # fmt: skip
    """:class:`FullBatch`'s (loss, grad) at ``params``, in one call."""
    return FullBatch(X, Y, sample_weight, network, alpha, output_scale, loss_spec)(
        params
    )
