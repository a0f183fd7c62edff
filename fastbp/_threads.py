"""How many threads training uses: BLAS one, fastbp's own products a few.

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

fastbp's own products (``_gemm``) give the same bits on any number of
threads. A stochastic fit on dense input whose batches are big enough
trains as a team of :func:`team_size` threads (``_team``: every thread runs
the epoch, each computing its part of every step); otherwise a fit whose
largest product is big enough splits its products between
:func:`training_threads` of Numba's threads (``_parallel``). Either way, a
fit takes the threads every limit allows (:func:`available_threads`):
Numba's own (``NUMBA_NUM_THREADS`` or
``numba.set_num_threads``; threadpoolctl's and the environment's BLAS limit
as it was before the fit, which is how ``threadpool_limits``, joblib's
workers and Dask's workers ask a library to use fewer threads), and one
thread for a fit that runs while another fit of the process runs (fits
side by side in joblib's or Dask's threads), checked at every epoch. Numba
needs a threading layer that can be entered from several threads at once:
TBB (the ``tbb`` package, a dependency of fastbp; its library is loaded from
the package before Numba looks for it) or OpenMP. With neither (Numba's
``workqueue`` layer only), or on the BLAS path of ``_gemm``, training is
serial, with the same results.
"""

import ctypes
import functools
import os
import threading
from contextlib import contextmanager
from importlib import metadata

import numba

from ._gemm import SIMD
from ._parallel import PARALLEL_MIN_MACS

# Numba's threading layers that may be entered from several threads at once.
SAFE_LAYERS = ("tbb", "omp")
_TBB_LIBRARIES = ("libtbb.so.12", "libtbb.12.dylib", "tbb12.dll")
# A fit trains as a team from this many multiply-adds per weight layer and
# batch, on average, float32 ones counting half (see team_size). Measured
# (2 cores, batch 200, adam, team against one thread): float64 (256,) on 8
# features (230k a layer) 1.15x, (64, 64) 1.2-1.3x; float32 (64, 64) (155k
# counted) 1.16-1.22x, (256,) (115k) 0.8x, (1024,) 1.4-1.7x; layers of 16
# (36-43k) 0.7-0.9x.
TEAM_MIN_MACS = 1 << 17
# A network whose large products (PARALLEL_MIN_MACS) hold this share of its
# multiply-adds splits them between Numba's threads instead: measured (2
# cores, batch 200, adam, against one thread, the same run) (256,) * 8
# float32 1.74x so against 1.58x as a team, float64 1.89x against 1.79x.
LARGE_SHARE = 0.95


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


def training_threads(n_rows, units):
    """Threads for a fit's products now (see the module's docstring): the
    threads :func:`available_threads` allows once the largest product of a
    batch has ``PARALLEL_MIN_MACS`` multiply-adds, else 1.

    Parameters
    ----------
    n_rows : int
        Rows of the fit's batches.
    units : ndarray of int
        Units per layer, input and output included.

    Returns
    -------
    threads : int
    """
    products = n_rows * units[:-1] * units[1:]
    return _threads_from(int(products.max()), PARALLEL_MIN_MACS)


def team_size(n_rows, units, itemsize):
    """Members of a fit's team (see ``_team``) now: the threads
    :func:`available_threads` allows once a batch has ``TEAM_MIN_MACS``
    multiply-adds per weight layer on average (float32 ones, of
    ``itemsize`` 4, counting half), else 1; 1 also for a network whose
    large products hold ``LARGE_SHARE`` of its work (parameters as
    :func:`training_threads`')."""
    products = n_rows * units[:-1] * units[1:]
    large = int(products[products >= PARALLEL_MIN_MACS].sum())
    if large >= LARGE_SHARE * int(products.sum()):
        return 1  # Numba's threads split the large products (training_threads)
    per_layer = int(products.sum()) * itemsize // (8 * products.shape[0])
    return _threads_from(per_layer, TEAM_MIN_MACS)


def _threads_from(work, threshold):
    if work < threshold:
        threading_layer()  # started before any kernel runs, see _parallel
        return 1
    return available_threads()


def available_threads():
    """Threads a fit may use now, under every limit (see the module's
    docstring)."""
    layer = threading_layer()  # started before any kernel runs, see _parallel
    limit = _ONE_BLAS_THREAD
    if not SIMD or layer is None:
        return 1
    if limit.holders > 1:
        return 1  # a sibling fit runs in this process
    threads = numba.get_num_threads()
    if limit.blas_threads_before is not None:
        threads = min(threads, limit.blas_threads_before)
    return max(1, threads)


@contextmanager
def numba_threads_setting():
    """Context for calling kernels, which Numba may compile on the way.

    Once its threads run, Numba refuses to compile while
    ``$NUMBA_NUM_THREADS`` differs from the number they started with, and
    some libraries change the variable in the process (Dask's LocalCluster
    writes its workers' settings into it). For the duration, the variable
    says what Numba started with; what it said is put back afterwards.
    """
    threading_layer()  # the threads start first, with the setting of now
    name = "NUMBA_NUM_THREADS"
    before = os.environ.get(name)
    started = str(numba.config.NUMBA_NUM_THREADS)
    if before is None or before == started:
        yield
        return
    os.environ[name] = started
    try:
        yield
    finally:
        if os.environ.get(name) == started:
            os.environ[name] = before


def _load_tbb():
    """Load the ``tbb`` package's library (for Numba's TBB layer), if any."""
    try:
        files = metadata.files("tbb") or ()
    except metadata.PackageNotFoundError:
        return
    for file in files:
        if file.name in _TBB_LIBRARIES:
            try:
                ctypes.CDLL(str(file.locate()), mode=ctypes.RTLD_GLOBAL)
            except OSError:
                continue
            return


@functools.cache
def threading_layer():
    """Numba's threading layer if fastbp may use it (TBB or OpenMP), else None.

    Starts Numba's threads on the first call (what Numba does when it first
    compiles a parallel function; a kernel loaded from the cache needs it
    done before it runs, see ``_parallel``).
    """
    _load_tbb()
    try:
        try:
            from numba.np.ufunc.parallel import _launch_threads
        except ImportError:  # pragma: no cover - another Numba's layout
            from ._parallel import probe as _launch_threads
        _launch_threads()
        layer = numba.threading_layer()
    except (ValueError, ImportError, OSError):
        return None
    return layer if layer in SAFE_LAYERS else None


class _SharedLimit:
    """A limit of one BLAS thread, held while at least one fit runs."""

    def __init__(self):
        self._lock = threading.Lock()
        self._holders = 0
        self._limiter = None
        self.blas_threads_before = None

    @property
    def holders(self):
        """How many fits run now."""
        return self._holders

    @contextmanager
    def held(self):
        with numba_threads_setting(), self._held():
            yield

    @contextmanager
    def _held(self):
        with self._lock:
            if self._holders == 0:
                pools = _blas_pools()
                counts = [c.num_threads for c in pools.lib_controllers]
                self.blas_threads_before = min(counts) if counts else None
                self._limiter = pools.limit(limits=1)
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
