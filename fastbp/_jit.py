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
"""

import numba

__all__ = ["FASTMATH_FLAGS", "jit"]

FASTMATH_FLAGS = frozenset({"nsz", "arcp", "contract", "reassoc"})


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
        return lambda f: numba.njit(**policy)(f)
    return numba.njit(**policy)(function)
