"""What the benchmarks ran on, and the machine's measured GEMM peak."""

import importlib.metadata
import os
import platform
import time

import numpy as np
from threadpoolctl import threadpool_info

LIBRARIES = ("fastbp", "numpy", "numba", "scikit-learn", "torch", "jax", "jaxlib")


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
