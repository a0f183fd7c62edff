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

The BLAS thread count is a process-wide setting, while fits may run at the
same time in several threads (joblib's threading backend). If each fit saved
and restored the setting, a fit starting while another held the limit would
save the limit of one thread and restore it at its end, for good. So one fit
at a time holds the limit: a fit that starts while another holds it trains
under that limit, or, once the holder has finished and restored the setting,
with the BLAS threads of before (the same results, as said above). A process
forked while a fit holds the limit has no fit running: it gets the threads of
before back.
"""

import functools
import os
import threading
from contextlib import ExitStack, contextmanager, nullcontext

SINGLE_THREAD_MAX_WEIGHTS = 256 * 256


@functools.cache
def _blas_pools():
    # The kernels call BLAS through SciPy; load it before looking for pools.
    import scipy.linalg.cython_blas  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


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
        return _ONE_BLAS_THREAD.held()
    return nullcontext()


class _SingleHolderLimit:
    """A limit of one BLAS thread that one fit at a time holds."""

    def __init__(self):
        self._lock = threading.Lock()
        self._held = False
        self._limiter = None

    @contextmanager
    def held(self):
        with ExitStack() as limit:
            with self._lock:
                holder = not self._held
                if holder:
                    self._limiter = limit.enter_context(_blas_pools().limit(limits=1))
                    self._held = True
            try:
                yield
            finally:
                if holder:
                    with self._lock:
                        limit.close()  # restores the threads of before
                        self._held = False
                        self._limiter = None

    def reset_after_fork(self):
        """In a forked child, the fit that held the limit does not exist."""
        self._lock = threading.Lock()
        if self._held:
            from threadpoolctl import OpenBLASController

            # Only the thread that set an OpenBLAS limit may change it, and
            # that thread was not forked along (unless it forked).
            OpenBLASController.clear_controlling_thread(force=True)
            self._limiter.restore_original_limits()
        self._held = False
        self._limiter = None


_ONE_BLAS_THREAD = _SingleHolderLimit()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ONE_BLAS_THREAD.reset_after_fork)
