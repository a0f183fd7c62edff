"""Prediction throughput and latency, and cold start, against scikit-learn."""

import pytest

from .inference import (
    ESTIMATORS,
    PREDICT_ROWS,
    cold_start_seconds,
    fitted_model,
    prediction_rows,
)


@pytest.mark.parametrize("implementation", sorted(ESTIMATORS))
def test_predict_100k_rows(benchmark, implementation):
    model = fitted_model(implementation)
    X = prediction_rows()
    model.predict(X[:10])
    benchmark.group = f"predict {PREDICT_ROWS} rows"
    benchmark.extra_info["rows"] = PREDICT_ROWS
    benchmark(model.predict, X)


@pytest.mark.parametrize("implementation", sorted(ESTIMATORS))
def test_predict_one_row(benchmark, implementation):
    model = fitted_model(implementation)
    row = prediction_rows(n_rows=1)
    model.predict(row)
    benchmark.group = "predict one row"
    benchmark(model.predict, row)


@pytest.mark.parametrize(
    "implementation, cache",
    [("fastbp", "empty"), ("fastbp", "warm"), ("scikit-learn", None)],
)
def test_cold_start(benchmark, tmp_path, implementation, cache):
    """A fresh process: import and a first small fit.

    With cache="empty", every round gets a new, empty NUMBA_CACHE_DIR (the
    first-ever compile); with "warm", one that a previous process filled.
    """
    benchmark.group = "cold start: import + first fit"
    warm_dir = str(tmp_path / "warm")
    if cache == "warm":
        cold_start_seconds(implementation, warm_dir)
    rounds = iter(range(3))

    def setup():
        if cache == "empty":
            return (implementation, str(tmp_path / f"empty{next(rounds)}")), {}
        return (implementation, warm_dir if cache else None), {}

    benchmark.pedantic(cold_start_seconds, setup=setup, rounds=3)
