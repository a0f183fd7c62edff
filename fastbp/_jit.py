"""The one place where fastbp's JIT compilation policy is set.

Every kernel is compiled with :func:`jit`, so that the policy is the same
everywhere:

- nopython mode (``numba.njit``), compiled when first called and cached on disk
  (``cache=True``), so that a new process does not pay the compile time again;
- ``nogil=True``, so that threads (e.g. joblib's threading backend) can train
  several models at once;
- ``error_model="numpy"``: division by zero gives inf/nan instead of raising;
- no fastmath flags: every operation rounds as written, as NumPy's do.
  With re-association and fused multiply-add allowed, a fit's weights
  depended on more than its inputs: the same fit differed by one unit in the
  last place in one weight between a process that had just compiled the
  kernels and one that loaded them from the cache (an SGD fit of a (12,)
  tanh network, 15 epochs). Without the flags an epoch is as fast within
  noise from 64 units up, and up to 10% slower at 16 units (measured, 8192 x
  8, batch 200, adam: 0.68 vs 0.71 ms float64, 0.60 vs 0.67 ms float32).
  ``nnan``/``ninf`` in particular must never be set: a diverging model must
  produce NaN/inf that the estimator can see.

Numba's cache is keyed by the source file, the signature and the CPU, not by
module-level values the code reads: ``_gemm`` bakes the tile it chose for
this CPU into the kernels, which the CPU key covers, but a path forced with
``$FASTBP_KERNELS`` (``avx512``, ``avx2``, ``blas``) would find kernels
cached for another path. With a forced path, nothing is cached.

Numba caches next to the source (``__pycache__``), else in
``$NUMBA_CACHE_DIR`` or the user's cache directory; when none of them can be
written (a read-only installation and home directory) it refuses
``cache=True`` at decoration time. fastbp then compiles without a cache, in
every new process, and says so once.
"""

import os
import threading
import warnings

import numba

__all__ = ["FASTMATH_FLAGS", "jit"]

FASTMATH_FLAGS = frozenset()  # see the module docstring

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
        "cache": os.environ.get("FASTBP_KERNELS", "auto") == "auto",
        "nogil": True,
        "error_model": "numpy",
        "fastmath": set(FASTMATH_FLAGS),
    }
    policy.update(options)
    if function is None:
        return lambda f: _compile(f, policy)
    return _compile(function, policy)
