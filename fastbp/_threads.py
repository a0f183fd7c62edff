"""How many BLAS threads training uses.

On small matrix products OpenBLAS's threads cost more than they bring: their
start and synchronisation outweigh the arithmetic. Measured on 2 cores
(n = 8192 x 8, batch 200, adam, seconds per epoch, 1 vs 2 BLAS threads):
float64 (64, 64) 5.3 vs 7.8 ms, (64, 64, 64, 64) 13.2 vs 17.9 ms, float32
(1024,) 16.1 vs 22.5 ms, while (256, 256) needs both threads: 71 vs 54 ms.
A network whose largest layer has fewer weights than
``SINGLE_THREAD_MAX_WEIGHTS`` is therefore trained with one BLAS thread.
Results do not depend on it: BLAS gives bitwise-identical products with one
or two threads (tested).

The limit is process-wide, and fits may run in several threads at once: the
first fit to need it sets it, the last to finish restores the original
number of threads (a limit per fit would let the fit that ends last restore
the limit set by another, leaving BLAS at one thread for good).
"""

import functools
import os
import threading
from contextlib import contextmanager, nullcontext

SINGLE_THREAD_MAX_WEIGHTS = 256 * 256


@functools.cache
def _blas_pools():
    # The kernels call BLAS through SciPy; load it before looking for pools.
    import scipy.linalg.cython_blas  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


class _SharedLimit:
    """One BLAS limit of one thread, held while any fit needs it."""

    def __init__(self):
        self._lock = threading.Lock()
        self._holders = 0
        self._limiter = None

    @contextmanager
    def held(self):
        with self._lock:
            if self._holders == 0:
                self._limiter = _blas_pools().limit(limits=1)
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0:
                    self._limiter.restore_original_limits()
                    self._limiter = None

    def reset_after_fork(self):
        """In a forked child the fits that held the limit do not exist."""
        self._lock = threading.Lock()
        if self._holders:
            self._limiter.restore_original_limits()
        self._holders = 0
        self._limiter = None


_single_thread = _SharedLimit()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_single_thread.reset_after_fork)


def blas_threads_for(units):
    """Context in which to train a network of layer sizes ``units``.

    Parameters
    ----------
    units : sequence of int
        Units per layer, input and output included.

    Returns
    -------
    context : context manager
        Limits BLAS to one thread for small networks, changes nothing for
        larger ones.
    """
    largest = max(int(a) * int(b) for a, b in zip(units[:-1], units[1:]))
    if largest < SINGLE_THREAD_MAX_WEIGHTS:
        return _single_thread.held()
    return nullcontext()
