"""fastbp's matrix products against BLAS: ``python -m benchmarks.products``.

One thread each, batch 200: the forward product ``A @ W``, the weight
gradient ``A.T @ delta`` and the error sent back ``delta @ W.T`` (fastbp's
packs W.T first, included in its time), fastbp's ``_gemm`` against
OpenBLAS through Numba's ``np.dot`` (what fastbp called before), for
square layers of 16 to 1024 units in float64 and float32. Medians of 5
repeats, microseconds per call, and GFLOP/s.
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from fastbp._gemm import matmul, matmul_transposed
from fastbp._jit import jit

from .machine import cpu_name

WIDTHS = (16, 64, 256, 1024)
BATCH = 200


@jit
def _blas(L, R, C):
    np.dot(L, R, C)


@jit
def _blas_transposed(L, W, C):
    np.dot(L, W.T, C)


def _microseconds(function, args, repeats=5):
    function(*args)
    calls = max(3, int(2e8 / (BATCH * args[1].size + 1)))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            function(*args)
        times.append((time.perf_counter() - start) / calls)
    return 1e6 * float(np.median(times))


def measure(width, dtype):
    """{product: (fastbp us, BLAS us)} for a (width, width) layer."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((BATCH, width)).astype(dtype)
    W = rng.standard_normal((width, width)).astype(dtype)
    delta = rng.standard_normal((BATCH, width)).astype(dtype)
    out = np.empty((BATCH, width), dtype)
    dW = np.empty((width, width), dtype)
    scratch = np.empty((width + 64) * width, dtype)
    return {
        "forward A @ W": (
            _microseconds(matmul, (A, W, out)),
            _microseconds(_blas, (A, W, out)),
        ),
        "gradient A.T @ delta": (
            _microseconds(matmul, (A.T, delta, dW)),
            _microseconds(_blas, (A.T, delta, dW)),
        ),
        "backward delta @ W.T": (
            _microseconds(matmul_transposed, (delta, W, scratch, out)),
            _microseconds(_blas_transposed, (delta, W, out)),
        ),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    print(f"{cpu_name()}; batch {BATCH}; one thread; medians of 5 repeats\n")
    print("| dtype | layer | product | fastbp us | BLAS us | speed-up | fastbp GFLOP/s |")
    print("|---|---|---|---|---|---|---|")
    with threadpool_limits(1, user_api="blas"):
        for dtype in ("float64", "float32"):
            for width in WIDTHS:
                flops = 2.0 * BATCH * width * width
                for name, (ours, blas) in measure(width, dtype).items():
                    print(f"| {dtype} | {width}x{width} | {name} | {ours:.1f} | "
                          f"{blas:.1f} | {blas / ours:.2f}x | "
                          f"{flops / ours / 1e3:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
