"""One grid search run serially, in joblib's worker processes, and on Dask.

``python -m benchmarks.distributed [--repeats 3] [--workers 2]``, from the
repository root. Starts a ``dask.distributed.LocalCluster`` (one thread per
worker process), loads fastbp's kernels on every worker, then times the same
``GridSearchCV`` (24 fits) three ways in interleaved rounds: serial
(``n_jobs=None``), joblib's process workers (``n_jobs=workers``) and the
cluster (``joblib.parallel_backend("dask")``). Prints the machine, the
cluster's start time, the median wall time of each and whether all found the
same ``best_params_`` and cross-validation scores.
"""

import argparse
import json
import os
import time
import warnings

import joblib
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastbp import BackpropRegressor

from .machine import machine_info
from .workload import make_data

GRID = {
    "backpropregressor__alpha": [1e-4, 1e-3, 1e-2, 1e-1],
    "backpropregressor__hidden_layer_sizes": [(32,), (64, 64)],
}


def make_search(n_jobs=None):
    """Grid search of 8 candidates x 3 folds, 40 epochs of adam per fit."""
    model = BackpropRegressor(max_iter=40, tol=0.0, random_state=0)
    return GridSearchCV(
        make_pipeline(StandardScaler(), model), GRID, cv=3, n_jobs=n_jobs
    )


def load_kernels():
    """Run on each worker: import fastbp and fit once (loads the JIT cache)."""
    X, y = make_data("float64", n_samples=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        BackpropRegressor((4,), max_iter=1).fit(X, y)


def timed_search(X, y, mode, n_workers):
    """(wall seconds, fitted search) of one search in ``mode``."""
    start = time.perf_counter()
    if mode == "serial":
        search = make_search().fit(X, y)
    elif mode == "processes":
        search = make_search(n_jobs=n_workers).fit(X, y)
    else:
        with joblib.parallel_backend("dask"):
            search = make_search(n_jobs=-1).fit(X, y)
    return time.perf_counter() - start, search


def same_results(search, reference):
    """Same best parameters and the same score on every split."""
    keys = [k for k in reference.cv_results_ if k.startswith("split")]
    return search.best_params_ == reference.best_params_ and all(
        np.array_equal(search.cv_results_[k], reference.cv_results_[k]) for k in keys
    )


def main(argv=None):
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--n-samples", type=int, default=4096)
    args = parser.parse_args(argv)
    print(json.dumps(machine_info(), indent=1))
    print("load average (1, 5, 15 min):", os.getloadavg())
    X, y = make_data("float64", n_samples=args.n_samples)
    warnings.simplefilter("ignore", ConvergenceWarning)
    load_kernels()

    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(load_kernels)
        print(
            f"\nCluster of {args.workers} workers started and warmed up in "
            f"{time.perf_counter() - start:.1f} s"
        )
        modes = ("serial", "processes", "dask")
        seconds = {mode: [] for mode in modes}
        searches = {}
        for _ in range(args.repeats):
            for mode in modes:
                wall, searches[mode] = timed_search(X, y, mode, args.workers)
                seconds[mode].append(wall)

    n_fits = len(searches["serial"].cv_results_["params"]) * 3
    print(
        f"\nGridSearchCV, {n_fits} fits on {args.n_samples} x 8, "
        f"median of {args.repeats} rounds:\n"
    )
    print("| mode | wall seconds | speed-up over serial | same results as serial |")
    print("|---|---|---|---|")
    serial = np.median(seconds["serial"])
    for mode in modes:
        median = np.median(seconds[mode])
        same = same_results(searches[mode], searches["serial"])
        print(f"| {mode} | {median:.2f} | {serial / median:.2f} | {same} |")


if __name__ == "__main__":
    main()
