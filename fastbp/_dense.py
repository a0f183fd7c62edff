"""Forward and backward passes of one dense layer on a mini-batch.

The matrix products are ``_gemm``'s register tiles (each element summed in
a fixed order; BLAS where the CPU has no tile, see ``_gemm``). Measured
single-threaded at batch 200 on an AVX-512 CPU, the tiles were 2-2.5x
faster than OpenBLAS from 16 to 256 units and 1.3-1.6x at 1024. A layer of
one unit (a regression output) takes matrix-vector products
(``_gemm.matvec`` forward, ``matvec_transposed`` for its gradient: as fast
as OpenBLAS's, 0.2-17 us from 16 to 1024 inputs, and no BLAS call in a
fit, which after a parallel region of Numba's threads was measured to cost
~100 us more); its backward pass is an outer product done by a plain loop
(see :func:`dense_backward`). Bias, activation and its derivative are
applied in one pass over the product.

Shapes: ``A_prev`` (n, fan_in) is the layer's input, ``W`` (fan_in, fan_out),
``b`` (fan_out,), ``A`` (n, fan_out) its output, ``delta`` (n, fan_out) the
derivative of the loss with respect to the layer's pre-activation ``Z``.
"""

import numpy as np

from ._activations import IDENTITY, RELU, add_bias_and_activate, multiply_by_derivative
from ._gemm import (
    MR,
    SIMD,
    check_panels,
    column_sums,
    matmul,
    matmul_bias,
    matmul_panels,
    matmul_panels_relu_derivative,
    matmul_transposed,
    matvec,
    matvec_transposed,
    pack_transposed,
    panel_width,
)
from ._jit import jit
from ._parallel import split_matmul, split_matmul_transposed, split_worthwhile
from ._team import barrier, part

# From this many units, the backward pass of a one-unit layer applies f' row
# by row. Measured (batch 200, relu, seconds per epoch, against BLAS followed
# by one pass of f'): 1024 units 1.16-1.18x faster row by row, 1.05-1.11x as
# one pass; 256 units the same either way; 16 and 64 units 0.73-0.93x row by
# row (a call per row), 1.04-1.08x as one pass.
ROW_BY_ROW_MIN_WIDTH = 512


@jit
def dense_forward(A_prev, W, b, A, code, threads, team):
    """Write ``f(A_prev @ W + b)`` into ``A``; a large product is split
    between ``threads`` threads (see ``_parallel``). A member of a ``team``
    (see ``_team``) writes its part: a block of rows, or for a large
    product a block of columns, then (after a barrier) the bias and
    activation of a block of rows."""
    n, fan_in = A_prev.shape
    fan_out = W.shape[1]
    if team[2] > 1 and SIMD:  # (a constant: a team needs the tiles)
        if split_worthwhile(n, fan_in, fan_out):
            start, stop = part(fan_out, panel_width(A), team)
            if stop > start:
                matmul(A_prev, W[:, start:stop], A[:, start:stop])
            barrier(team)
            start, stop = part(n, MR, team)
            add_bias_and_activate(A[start:stop], b, code)
            return
        start, stop = part(n, MR, team)
        A_prev, A = A_prev[start:stop], A[start:stop]
    if fan_out == 1:
        matvec(A_prev, W, A)
    elif threads > 1 and split_worthwhile(n, fan_in, fan_out):
        split_matmul(A_prev, W, A, threads)
    elif SIMD and n > 1 and (code == RELU or code == IDENTITY):
        matmul_bias(A_prev, W, b, A, code == RELU)  # in one pass
        return
    else:
        matmul(A_prev, W, A)
    add_bias_and_activate(A, b, code)


@jit
def dense_gradient(A_prev, delta, W, alpha, weight_sum, dW, db, threads, team):
    """Write the layer's parameter gradients into ``dW`` and ``db``.

    ``dW = (A_prev.T @ delta + alpha * W) / weight_sum`` and
    ``db = delta.sum(axis=0) / weight_sum``: the gradient of the batch's
    loss plus its L2 term ``0.5 * alpha * ||W||^2 / weight_sum``. A member
    of a ``team`` writes its part: a block of dW's rows and one of db, or a
    block of columns of both when dW has more columns than rows (two tiles
    of them at least). Measured on 2 cores, batch 200: at 256 x 256 blocks of
    rows were 1.96x faster than one thread, blocks of columns 1.36x; a
    member reads all of ``delta``'s rows, half of them written by the other
    member, so the wider of the two operands is split.
    """
    n, fan_in = A_prev.shape
    fan_out = W.shape[1]
    if team[2] > 1 and SIMD:
        width = panel_width(dW)
        if fan_out > fan_in and fan_out >= 2 * width:
            start, stop = part(fan_out, width, team)
            matmul(A_prev.T, delta[:, start:stop], dW[:, start:stop])
            finish_gradient(delta[:, start:stop], W[:, start:stop], alpha,
                            weight_sum, dW[:, start:stop], db[start:stop])  # fmt: skip
            return
        start, stop = part(fan_in, MR, team)
        if fan_out == 1:
            matvec_transposed(A_prev[:, start:stop], delta, dW[start:stop])
        else:
            matmul(A_prev[:, start:stop].T, delta, dW[start:stop])
        finish_weights(W[start:stop], alpha, weight_sum, dW[start:stop])
        start, stop = part(fan_out, width, team)
        finish_bias(delta[:, start:stop], weight_sum, db[start:stop])
        return
    if fan_out == 1:
        matvec_transposed(A_prev, delta, dW)
    elif threads > 1 and split_worthwhile(n, fan_in, fan_out):
        split_matmul(A_prev.T, delta, dW, threads)
    else:
        matmul(A_prev.T, delta, dW)
    finish_gradient(delta, W, alpha, weight_sum, dW, db)


@jit
def finish_gradient(delta, W, alpha, weight_sum, dW, db):
    """Given ``dW = A_prev.T @ delta``, add the L2 term and divide:
    ``dW = (dW + alpha * W) / weight_sum``, ``db = delta.sum(axis=0) /
    weight_sum`` (the last steps of :func:`dense_gradient`)."""
    finish_weights(W, alpha, weight_sum, dW)
    finish_bias(delta, weight_sum, db)


@jit
def finish_weights(W, alpha, weight_sum, dW):
    """``dW = (dW + alpha * W) / weight_sum``, in dW's dtype (as
    scikit-learn's ``(dW + alpha * W) / n`` in NumPy)."""
    fan_in, fan_out = W.shape
    real = dW.dtype.type
    alpha, weight_sum = real(alpha), real(weight_sum)
    for k in range(fan_in):
        for j in range(fan_out):
            dW[k, j] = (dW[k, j] + alpha * W[k, j]) / weight_sum


@jit
def finish_bias(delta, weight_sum, db):
    """``db = delta.sum(axis=0) / weight_sum``, each column summed in order."""
    column_sums(delta, db)
    weight_sum = db.dtype.type(weight_sum)
    for j in range(db.shape[0]):
        db[j] /= weight_sum


@jit
def dense_backward(delta, W, A_prev, code, delta_prev, scratch, threads, team):
    """Write ``(delta @ W.T) * f'(Z_prev)`` into ``delta_prev``.

    ``A_prev = f(Z_prev)`` is the previous layer's output and ``code`` its
    activation: the chain rule carries the error one layer back. ``scratch``
    takes ``W.T`` in panels (``_network.scratch_size``); a large product is
    split between ``threads`` threads. A member of a ``team`` writes its
    part: a block of columns of a large product (packing that block of W.T),
    else a block of rows (after the members have packed W.T together, which
    takes one barrier).
    """
    n, fan_out = delta.shape
    fan_in = W.shape[0]
    if team[2] > 1 and SIMD:
        width = panel_width(delta_prev)
        if fan_out > 1:
            check_panels(W, scratch, width)
            start, stop = part(fan_in, width, team)
            pack_transposed(W, scratch, start, stop, width)
            if split_worthwhile(n, fan_out, fan_in):
                if stop > start:
                    _product_times_derivative(delta, scratch, delta_prev, start,
                                              stop, width, A_prev, code)  # fmt: skip
                return
            barrier(team)
        start, stop = part(n, MR, team)
        delta, A_prev = delta[start:stop], A_prev[start:stop]
        delta_prev = delta_prev[start:stop]
        n = stop - start
        if fan_out > 1:
            _product_times_derivative(delta, scratch, delta_prev, 0, fan_in,
                                      width, A_prev, code)  # fmt: skip
            return
    if fan_out == 1:
        # An outer product (e.g. back from a regression output), on which
        # BLAS's general product is slower than a plain loop; on wide rows f'
        # is applied to each row while it is in cache.
        w = W.reshape(fan_in)
        if code == RELU:
            # relu's f' in the same pass: the error where A_prev > 0, else 0
            # (as multiply_by_derivative's, to the bit; measured at batch
            # 200, 64 units: 0.70 against 0.89 us as two passes in float32,
            # 1.39 against 1.62 in float64; 16 to 1024 units all faster).
            zero = delta_prev.dtype.type(0.0)
            for i in range(n):
                d = delta[i, 0]
                row, a = delta_prev[i], A_prev[i]
                for k in range(fan_in):
                    row[k] = d * w[k] if a[k] != zero else zero
            return
        row_by_row = fan_in >= ROW_BY_ROW_MIN_WIDTH
        for i in range(n):
            d = delta[i, 0]
            row = delta_prev[i]
            for k in range(fan_in):
                row[k] = d * w[k]
            if row_by_row:
                multiply_by_derivative(A_prev[i : i + 1], delta_prev[i : i + 1], code)
        if row_by_row:
            return
    elif threads > 1 and split_worthwhile(n, fan_out, fan_in):
        split_matmul_transposed(delta, W, scratch, delta_prev, threads)
    elif SIMD:
        width = panel_width(delta_prev)
        check_panels(W, scratch, width)
        pack_transposed(W, scratch, 0, fan_in, width)
        _product_times_derivative(delta, scratch, delta_prev, 0, fan_in, width,
                                  A_prev, code)  # fmt: skip
        return
    else:
        matmul_transposed(delta, W, scratch, delta_prev)
    multiply_by_derivative(A_prev, delta_prev, code)


@jit(inline="always")
def _product_times_derivative(delta, panels, delta_prev, start, stop, width,
                              A_prev, code):  # fmt: skip
    """Columns ``start:stop`` of ``(delta @ W.T) * f'`` from W.T's panels:
    relu's f' in the product's store, other activations' in a pass after."""
    if code == RELU:
        matmul_panels_relu_derivative(delta, panels, delta_prev, start, stop,
                                      width, A_prev)  # fmt: skip
        return
    matmul_panels(delta, panels, delta_prev, start, stop, width)
    multiply_by_derivative(A_prev[:, start:stop], delta_prev[:, start:stop], code)
