"""What the benchmarks ran on, and the machine's measured GEMM peak."""

import importlib.metadata
import os
import platform
import time

import numpy as np
from threadpoolctl import threadpool_info

LIBRARIES = ("fastbp", "numpy", "numba", "scikit-learn", "torch", "jax", "jaxlib")

# A pause before each timed measure. After a product, OpenBLAS's threads
# (scikit-learn's) spin for ~0.1 s and OpenMP's (PyTorch's) a while, on the
# cores the next measure uses: measured, fastbp's fit on the digits took
# 70 ms right after MLPClassifier's fit, 66 ms 0.05 s after it and 45 ms
# from 0.1 s on; a team of fastbp's threads at float32 1024 x 1 took 6.7
# ms an epoch in rounds after scikit-learn's, 3.2 ms after JAX's.
SETTLE_SECONDS = 0.15


def settle():
    """Wait :data:`SETTLE_SECONDS`, for the last library's threads to stop
    spinning before the next measure."""
    time.sleep(SETTLE_SECONDS)


def cpu_name():
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info():
    """CPU, core count, Python, library versions and BLAS libraries."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "blas": [
            {k: pool.get(k) for k in ("internal_api", "version", "num_threads")}
            for pool in threadpool_info()
        ],
    }


def gemm_peak(dtype, size=2048, repeats=10):
    """Best GFLOP/s of an n x n matrix product (numpy.matmul) in ``dtype``."""
    rng = np.random.RandomState(0)
    A = rng.normal(size=(size, size)).astype(dtype)
    B = rng.normal(size=(size, size)).astype(dtype)
    C = np.empty_like(A)
    np.matmul(A, B, out=C)  # warm up the BLAS threads
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(A, B, out=C)
        best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best / 1e9


def own_product_peak(dtype, shapes=((200, 1024, 1024), (512, 512, 512)), repeats=10):
    """Best GFLOP/s of fastbp's own matrix product (``_gemm``, split between
    all of Numba's threads) over ``shapes`` (n, k, m), in ``dtype``."""
    import numba

    from fastbp._parallel import split_matmul

    rng = np.random.RandomState(0)
    threads = numba.get_num_threads()
    best = 0.0
    for n, k, m in shapes:
        A = rng.normal(size=(n, k)).astype(dtype)
        B = rng.normal(size=(k, m)).astype(dtype)
        C = np.empty((n, m), dtype)
        split_matmul(A, B, C, threads)
        for _ in range(repeats):
            start = time.perf_counter()
            split_matmul(A, B, C, threads)
            best = max(best, 2.0 * n * k * m / (time.perf_counter() - start) / 1e9)
    return best


def gemm_peaks(dtype):
    """The machine's GEMM peak in ``dtype``: the better of NumPy's BLAS
    (:func:`gemm_peak`) and fastbp's own product, both measured now."""
    blas, own = gemm_peak(dtype), own_product_peak(dtype)
    return {"peak": max(blas, own), "numpy": blas, "fastbp": own}
