"""Training time, fastbp against scikit-learn, by network size.

Run with ``python -m pytest benchmarks`` (the unit test run does not collect
this directory). One group per network size, so that both implementations of
a size share a table. Each round is one fit of ``EPOCHS`` epochs, so seconds
per epoch are the times divided by ``EPOCHS`` (recorded in ``extra_info``).
JIT compilation happens before timing.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from fastbp import BackpropRegressor

N_SAMPLES, N_FEATURES, BATCH, EPOCHS = 8192, 8, 200, 3
IMPLEMENTATIONS = {"fastbp": BackpropRegressor, "scikit-learn": MLPRegressor}


def flops_per_epoch(units, n_samples):
    """Forward 2 * MACs, backward 4 * MACs per sample."""
    macs = sum(a * b for a, b in zip(units[:-1], units[1:]))
    return 6 * macs * n_samples


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    return X, y


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("width", [16, 64, 256])
@pytest.mark.parametrize("implementation", sorted(IMPLEMENTATIONS))
def test_fit_time(benchmark, data, implementation, width, depth, dtype):
    X, y = (a.astype(dtype) for a in data)
    hidden = (width,) * depth
    model = IMPLEMENTATIONS[implementation](
        hidden_layer_sizes=hidden,
        batch_size=BATCH,
        max_iter=EPOCHS,
        tol=0.0,
        random_state=0,
    )
    benchmark.group = f"width {width}, {depth} hidden, {dtype}"
    benchmark.extra_info["flops_per_epoch"] = flops_per_epoch(
        [N_FEATURES, *hidden, 1], N_SAMPLES
    )
    benchmark.extra_info["epochs_per_round"] = EPOCHS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[:BATCH], y[:BATCH])  # compile (fastbp) before timing
        benchmark.pedantic(model.fit, args=(X, y), rounds=5, iterations=1)
