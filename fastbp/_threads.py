"""How many BLAS threads training uses: one.

Training calls BLAS with one thread, for two reasons:

- Results must not depend on the number of threads. OpenBLAS does not keep
  that promise: measured with OpenBLAS 0.3.30 (Haswell kernels) on an AMD
  EPYC, 200 x 300 @ 300 products (float32 and float64) and 200 x 256 @ 256,
  200 x 1024 @ 1024 (float32) differ in their last bits between one and two
  threads, so a 2 x 300 float32 network trained other weights in a process
  with one BLAS thread than in one with two.
- On small matrix products OpenBLAS's threads cost more than they bring.
  Measured on 2 cores (n = 8192 x 8, batch 200, adam, seconds per epoch, 1
  vs 2 BLAS threads): float64 (64, 64) 5.3 vs 7.8 ms, (64, 64, 64, 64) 13.2
  vs 17.9 ms, float32 (1024,) 16.1 vs 22.5 ms; only wide layers gained from
  the second thread ((256, 256): 71 vs 54 ms), at the price of the first
  point.

The BLAS thread count is a process-wide setting, while fits may run at the
same time in several threads (joblib's threading backend). If each fit saved
and restored the setting, a fit starting while another held the limit would
save the limit of one thread and restore it at its end, for good; if only
the first fit restored it, a fit still running would go on with the threads
of before. So the limit is counted: the first fit to start sets it, the
last to finish restores the threads of before, and every fit trains under
it. A process forked while fits hold the limit has no fit running: it gets
the threads of before back.
"""

import functools
import os
import threading
from contextlib import contextmanager


@functools.cache
def _blas_pools():
    # The kernels call BLAS through SciPy; load it before looking for pools.
    import scipy.linalg.cython_blas  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


def one_blas_thread():
    """Context in which training runs: BLAS limited to one thread, for every
    network (see the module's docstring).

    Returns
    -------
    context : context manager
    """
    return _ONE_BLAS_THREAD.held()


class _SharedLimit:
    """A limit of one BLAS thread, held while at least one fit runs."""

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
                    self._restore()

    def _restore(self):
        from threadpoolctl import OpenBLASController

        # Only the thread that set an OpenBLAS limit may change it, and the
        # last fit to finish may run in another thread (or a forked child).
        OpenBLASController.clear_controlling_thread(force=True)
        self._limiter.restore_original_limits()
        OpenBLASController.clear_controlling_thread(force=True)
        self._limiter = None

    def reset_after_fork(self):
        """In a forked child, the fits that held the limit do not exist."""
        self._lock = threading.Lock()
        if self._holders:
            self._restore()
        self._holders = 0


_ONE_BLAS_THREAD = _SharedLimit()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ONE_BLAS_THREAD.reset_after_fork)
