"""The one place where fastbp's JIT compilation policy is set.

Every kernel is compiled with :func:`jit`, so that the policy is the same
everywhere:

- nopython mode (``numba.njit``), compiled when first called and cached on disk
  (``cache=True``), so that a new process does not pay the compile time again;
- ``nogil=True``, so that threads (e.g. joblib's threading backend) can train
  several models at once;
- ``error_model="numpy"``: division by zero gives inf/nan instead of raising;
- fastmath flags that allow re-association and fused multiply-add, so that the
  compiler can vectorise reductions, but never ``nnan``/``ninf``: a diverging
  model must produce NaN/inf that the estimator can see.

Numba caches next to the source (``__pycache__``), else in
``$NUMBA_CACHE_DIR`` or the user's cache directory; when none of them can be
written (a read-only installation and home directory) it refuses
``cache=True`` at decoration time. fastbp then compiles without a cache, in
every new process, and says so once.
"""

import threading
import warnings

import numba

__all__ = ["FASTMATH_FLAGS", "jit"]

FASTMATH_FLAGS = frozenset({"nsz", "arcp", "contract", "reassoc"})

NO_CACHE_MESSAGE = (
    "fastbp: no writable directory for Numba's cache (neither the package's "
    "__pycache__, nor NUMBA_CACHE_DIR, nor the user's cache directory); the "
    "kernels are compiled in every new process, which makes the first fit of "
    "each process slower. Set NUMBA_CACHE_DIR to a writable directory to "
    "cache them."
)
_no_cache_warned = threading.Event()


def _compile(function, policy):
    """``numba.njit(**policy)(function)``, without the cache if none is writable."""
    try:
        return numba.njit(**policy)(function)
    except RuntimeError as error:
        if not policy.get("cache") or "cannot cache" not in str(error):
            raise
    if not _no_cache_warned.is_set():
        _no_cache_warned.set()
        warnings.warn(NO_CACHE_MESSAGE, UserWarning, stacklevel=4)
    return numba.njit(**{**policy, "cache": False})(function)


def jit(function=None, **options):
    """Compile ``function`` with fastbp's policy (usable as a decorator).

    Parameters
    ----------
    function : callable, default=None
        The function to compile. When None, a decorator is returned.
    **options
        Options that override the policy for this function only.

    Returns
    -------
    dispatcher : numba.core.registry.CPUDispatcher or callable
    """
    policy = {
        "cache": True,
        "nogil": True,
        "error_model": "numpy",
        "fastmath": set(FASTMATH_FLAGS),
    }
    policy.update(options)
    if function is None:
        return lambda f: _compile(f, policy)
    return _compile(function, policy)
