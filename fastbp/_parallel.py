"""The matrix products of wide layers, split between threads.

A product's output columns are cut into ``parts`` blocks of whole register
tiles (``_gemm``), and Numba's threads (``prange``) compute one block each.
Every element is still summed over the whole batch, or the whole fan-in,
in ``_gemm``'s order: the split changes who computes an element, never how,
so the results are bit-identical to the serial product whatever the number
of parts or threads. How many threads a fit uses is decided in ``_threads``.

Every kernel that calls this module's functions contains a parallel region,
and Numba's threads must be running before such a kernel is called, even if
it does not enter the region (measured: a training kernel loaded from the
cache crashed the process otherwise). ``_threads.threading_layer()``
starts them; fitting, predicting and the full-batch objective call it first.
They are not started when fastbp is imported: Numba refuses to compile
anything once ``NUMBA_NUM_THREADS`` differs from its value when the threads
started, and libraries (Dask's LocalCluster) change it in the process.
"""

from numba import prange

from ._gemm import (
    SIMD,
    check_panels,
    matmul,
    matmul_panels,
    matmul_transposed,
    pack_transposed,
    panel_width,
)
from ._jit import jit
from ._optimizers import update_range
from ._team import part

__all__ = [
    "PARALLEL_MIN_MACS",
    "PARALLEL_MIN_PARAMS",
    "split_optimizer_step",
    "split_matmul",
    "split_matmul_transposed",
    "split_worthwhile",
]

# A product is split when it has at least this many multiply-adds: measured
# (batch 200, two threads, TBB), a parallel region costs a few microseconds,
# and a product of 2**22 multiply-adds takes ~40 us on one core. Measured in
# fits (n = 8192 x 8, batch 200): a (1024,) network, whose largest product
# is 200 x 8 x 1024 (1.6e6), gained nothing from two threads.
PARALLEL_MIN_MACS = 1 << 22


@jit(inline="always")
def _block(m, width, parts, part):
    """Columns ``[start, stop)`` of block ``part`` of ``parts``: whole tiles
    of ``width`` columns."""
    tiles = (m + width - 1) // width
    start = min(tiles * part // parts * width, m)
    stop = min(tiles * (part + 1) // parts * width, m)
    return start, stop


@jit(parallel=True)
def split_matmul(L, R, C, parts):
    """``_gemm.matmul(L, R, C)`` with C's columns in ``parts`` blocks."""
    if not SIMD:  # BLAS is called whole (a constant: the rest is not compiled)
        matmul(L, R, C)
        return
    m = C.shape[1]
    width = panel_width(C)
    for part in prange(parts):
        start, stop = _block(m, width, parts, part)
        if stop > start:
            matmul(L, R[:, start:stop], C[:, start:stop])


@jit(parallel=True)
def split_matmul_transposed(L, W, scratch, C, parts):
    """``_gemm.matmul_transposed(L, W, scratch, C)`` with C's columns in
    ``parts`` blocks; each thread also transposes its block of ``W``."""
    if not SIMD:
        matmul_transposed(L, W, scratch, C)
        return
    m = C.shape[1]
    width = panel_width(C)
    check_panels(W, scratch, width)
    for part in prange(parts):
        start, stop = _block(m, width, parts, part)
        if stop > start:
            pack_transposed(W, scratch, start, stop, width)
            matmul_panels(L, scratch, C, start, stop, width)


# The optimizer's update is split from this many parameters (a (256,) * 8
# network has 460k; Adam's update of 1M float32 parameters took 0.39 ms).
PARALLEL_MIN_PARAMS = 1 << 18


@jit(parallel=True)
def _split_update(solver, params, grad, state, step, hyper, parts):
    n = params.shape[0]
    for part in prange(parts):
        update_range(solver, params, grad, state, step, hyper,
                     n * part // parts, n * (part + 1) // parts)  # fmt: skip


# A team member's range of parameters is a multiple of this many (whole
# cache lines: members never write the same line).
TEAM_PARAMS_GRAIN = 64


@jit
def split_optimizer_step(solver, params, grad, state, step, hyper, threads, team):
    """``_optimizers.optimizer_step``, the parameters in ``threads`` ranges
    when there are enough of them, or a ``team`` member's range (see
    ``_team``): the same values (each parameter's update is its own)."""
    if team[2] > 1:
        start, stop = part(params.shape[0], TEAM_PARAMS_GRAIN, team)
        update_range(solver, params, grad, state, step, hyper, start, stop)
    elif threads > 1 and params.shape[0] >= PARALLEL_MIN_PARAMS:
        _split_update(solver, params, grad, state, step, hyper, threads)
    else:
        update_range(solver, params, grad, state, step, hyper, 0, params.shape[0])


@jit(parallel=True)
def probe():
    """A parallel region that does nothing: starts Numba's threads."""
    total = 0
    for i in prange(2):
        total += i
    return total


@jit(inline="always")
def split_worthwhile(n_rows, fan_in, fan_out):
    """Whether a (n_rows, fan_in) @ (fan_in, fan_out) product is split."""
    return n_rows * fan_in * fan_out >= PARALLEL_MIN_MACS
