"""Prediction speed and cold start, fastbp against scikit-learn.

- predict throughput: rows per second on 100k rows;
- single-row latency: seconds for ``predict`` on one row;
- cold start: a fresh Python process doing the import and a first small fit,
  timed from outside, for fastbp with an empty JIT cache and with a warm one,
  and for scikit-learn.
"""

import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .workload import make_data

PREDICT_ROWS = 100_000
PREDICT_HIDDEN = (64, 64)

_COLD_START = """
import numpy as np
from {module} import {estimator}
rng = np.random.RandomState(0)
X = rng.normal(size=(500, 8))
y = X[:, 0] - X[:, 1]
{estimator}(hidden_layer_sizes=(16,), max_iter=5).fit(X, y)
"""
ESTIMATORS = {
    "fastbp": ("fastbp", "BackpropRegressor"),
    "scikit-learn": ("sklearn.neural_network", "MLPRegressor"),
}


def fitted_model(name, dtype="float64", hidden=PREDICT_HIDDEN):
    """A model of ``name`` trained briefly on the workload's data."""
    module, estimator = ESTIMATORS[name]
    estimator_class = getattr(__import__(module, fromlist=[estimator]), estimator)
    X, y = make_data(dtype, n_samples=2000)
    model = estimator_class(hidden_layer_sizes=hidden, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def prediction_rows(dtype="float64", n_rows=PREDICT_ROWS):
    return make_data(dtype, n_samples=n_rows, seed=1)[0]


def median_seconds(function, repeats, inner=1):
    """Median over ``repeats`` of the mean time of ``inner`` calls."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            function()
        times.append((time.perf_counter() - start) / inner)
    return float(np.median(times))


def cold_start_seconds(name, cache_dir=None):
    """Wall time of a fresh process that imports ``name`` and fits once.

    ``cache_dir`` becomes NUMBA_CACHE_DIR: an empty directory measures the
    first-ever compile, one used before measures a warm cache.
    """
    module, estimator = ESTIMATORS[name]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    code = _COLD_START.format(module=module, estimator=estimator)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return time.perf_counter() - start


def cold_starts(repeats=3):
    """Median cold-start seconds: fastbp empty cache, warm cache, scikit-learn."""
    with tempfile.TemporaryDirectory() as cache_dir:
        empty = [cold_start_seconds("fastbp", cache_dir)]
        for _ in range(repeats - 1):
            with tempfile.TemporaryDirectory() as fresh:
                empty.append(cold_start_seconds("fastbp", fresh))
        warm, reference = [], []
        for _ in range(repeats):  # interleaved, so drift hits both alike
            warm.append(cold_start_seconds("fastbp", cache_dir))
            reference.append(cold_start_seconds("scikit-learn"))
    return {
        "fastbp_empty_cache": float(np.median(empty)),
        "fastbp_warm_cache": float(np.median(warm)),
        "scikit-learn": float(np.median(reference)),
    }
