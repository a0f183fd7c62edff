"""Two models trained by two threads against both trained by one thread.

``python -m benchmarks.threads [--epochs 20] [--repeats 7]``, from the
repository root. fastbp's kernels release the GIL, so two threads can train
two models at once (what joblib's threading backend does in a search). For
each network size this times, in the same process and in interleaved rounds,
one thread fitting model A then model B against two threads fitting one model
each, and prints the medians and their ratio (the speed-up; the ideal is the
number of cores, 2 here at most) with the machine's description.
"""

import argparse
import json
import os
import threading
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from fastbp import BackpropRegressor

from .machine import machine_info
from .workload import make_data

# Networks small enough to train with one BLAS thread each (see
# fastbp._threads), so that the two threads are the only parallelism.
SIZES = ((64, 64), (256,))
DTYPES = ("float64", "float32")


def make_models(hidden, epochs):
    """Two models that differ only by their seed, with ``epochs`` epochs each."""
    return [
        BackpropRegressor(hidden, max_iter=epochs, tol=0.0, random_state=seed)
        for seed in (0, 1)
    ]


def fit_serial(models, X, y):
    """Wall and CPU seconds of one thread fitting the models one after the other."""
    wall, cpu = time.perf_counter(), time.process_time()
    for model in models:
        model.fit(X, y)
    return time.perf_counter() - wall, time.process_time() - cpu


def fit_threads(models, X, y):
    """Wall and CPU seconds of one thread per model fitting them all at once."""
    barrier = threading.Barrier(len(models) + 1)

    def fit(model):
        barrier.wait()
        model.fit(X, y)

    threads = [threading.Thread(target=fit, args=(model,)) for model in models]
    for thread in threads:
        thread.start()
    barrier.wait()
    wall, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(hidden, dtype, epochs, repeats, n_samples=8192):
    """Median seconds of the serial and the threaded fits, and the speed-up.

    ``threads_cores`` is the CPU time of the threaded fits over their wall
    time: how many cores the two threads kept busy (2 when both ran all the
    time, whatever else the machine was doing).
    """
    X, y = make_data(dtype, n_samples=n_samples)
    make_models(hidden, 1)[0].fit(X, y)  # compile or load the kernels first
    serial, threaded = [], []
    for _ in range(repeats):
        serial.append(fit_serial(make_models(hidden, epochs), X, y))
        threaded.append(fit_threads(make_models(hidden, epochs), X, y))
    serial_s, threaded_s = (
        float(np.median([r[0] for r in rounds])) for rounds in (serial, threaded)
    )
    cores = np.median([cpu / wall for wall, cpu in threaded])
    return {
        "hidden_layer_sizes": list(hidden),
        "dtype": dtype,
        "epochs": epochs,
        "n_samples": n_samples,
        "serial_seconds": serial_s,
        "threads_seconds": threaded_s,
        "speedup": serial_s / threaded_s,
        "threads_cores": float(cores),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    print(json.dumps(machine_info(), indent=1))
    print("load average (1, 5, 15 min):", os.getloadavg())
    print(
        "\n| dtype | hidden | 1 thread, 2 models (s) | 2 threads (s) | speed-up "
        "| cores busy with 2 threads |"
    )
    print("|---|---|---|---|---|---|")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for dtype in DTYPES:
            for hidden in SIZES:
                row = measure(hidden, dtype, args.epochs, args.repeats)
                print(
                    f"| {dtype} | {hidden} | {row['serial_seconds']:.3f} | "
                    f"{row['threads_seconds']:.3f} | {row['speedup']:.2f} | "
                    f"{row['threads_cores']:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
