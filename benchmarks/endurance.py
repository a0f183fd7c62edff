"""Endurance: 10,000 epochs on a small problem, and the memory they take.

A 32 x 4 problem, one batch per epoch, trained without early stop for
``epochs`` epochs after a short warm-up fit (compilation, allocator). Reports
the resident memory (Linux: VmRSS of /proc/self/status) before and after the
long fit, the peak of Python allocations during a second long fit
(tracemalloc), the time, and the loss at the first and last epoch::

    python -m benchmarks.endurance [--epochs 10000]
"""

import argparse
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from fastbp import BackpropRegressor


def resident_bytes():
    """The process's resident memory in bytes, or None where unknown."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def endurance(epochs=10_000):
    """Train ``epochs`` epochs; return the model and the measured figures."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(32, 4))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1]
    model = BackpropRegressor(
        (8,), batch_size=32, tol=0.0, n_iter_no_change=np.inf, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.set_params(max_iter=10).fit(X, y)  # compile, warm the allocator
        rss_before = resident_bytes()
        start = time.perf_counter()
        model.set_params(max_iter=epochs).fit(X, y)
        seconds = time.perf_counter() - start
        rss_after = resident_bytes()
        tracemalloc.start()
        try:
            model.fit(X, y)
            python_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return model, {
        "epochs": model.n_iter_,
        "seconds": seconds,
        "rss_before": rss_before,
        "rss_after": rss_after,
        "python_peak": python_peak,
        "first_loss": model.loss_curve_[0],
        "last_loss": model.loss_,
    }


def describe(figures):
    """One line per figure, memory in MiB."""
    lines = [f"{figures['epochs']} epochs in {figures['seconds']:.2f} s"]
    if figures["rss_before"] is not None:
        before, after = figures["rss_before"], figures["rss_after"]
        lines.append(
            f"resident memory: {before / 2**20:.1f} MiB before, "
            f"{after / 2**20:.1f} MiB after ({(after - before) / 2**20:+.2f} MiB)"
        )
    lines.append(
        f"Python allocations at peak: {figures['python_peak'] / 2**20:.2f} MiB"
    )
    lines.append(f"loss: {figures['first_loss']:.6g} -> {figures['last_loss']:.6g}")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10_000)
    print(describe(endurance(parser.parse_args().epochs)[1]))
