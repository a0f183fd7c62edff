"""Seconds per training epoch by width and depth, fastbp against its peers.

Run from the repository root: ``python -m pytest benchmarks``. The unit test
run does not collect this directory. One group per network size and dtype,
so all implementations of a size share a table; compilation runs before the
timed rounds; ``extra_info`` records the FLOPs of an epoch. Regression (one
output) and classification (``N_CLASSES`` classes, softmax and log loss) each
have their grid; a last group puts fastbp's classifier beside its regressor
with ``N_CLASSES`` identity outputs, what the softmax and the log loss cost.
"""

import pytest

from .implementations import IMPLEMENTATIONS, make_trainer, missing_reason
from .workload import (
    DTYPES,
    N_CLASSES,
    SOFTMAX_OVERHEAD_SIZES,
    classification_grid,
    flops_per_epoch,
    grid,
    make_classification_data,
    one_hot,
)


@pytest.fixture(scope="session", params=DTYPES)
def classification_data(request):
    """The workload's inputs and their labels, in each dtype."""
    return make_classification_data(request.param)


def _time_epochs(benchmark, trainer, group, flops):
    trainer.compile()
    benchmark.group = group
    benchmark.extra_info["flops_per_epoch"] = flops
    benchmark.pedantic(trainer.train, args=(1,), rounds=3, iterations=1)


@pytest.mark.parametrize("width, depth", grid())
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_epoch(benchmark, workload_data, implementation, width, depth):
    reason = missing_reason(implementation)
    if reason:
        pytest.skip(reason)
    X, y = workload_data
    trainer = make_trainer(implementation, X, y, (width,) * depth)
    group = f"epoch: width {width}, {depth} hidden, {X.dtype}"
    _time_epochs(benchmark, trainer, group, flops_per_epoch(width, depth))


@pytest.mark.parametrize("width, depth", classification_grid())
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_classifier_epoch(benchmark, classification_data, implementation, width, depth):
    reason = missing_reason(implementation)
    if reason:
        pytest.skip(reason)
    X, y = classification_data
    trainer = make_trainer(implementation, X, y, (width,) * depth, "classification")
    group = (
        f"classifier epoch, {N_CLASSES} classes: width {width}, {depth} hidden, "
        f"{X.dtype}"
    )
    flops = flops_per_epoch(width, depth, n_outputs=N_CLASSES)
    _time_epochs(benchmark, trainer, group, flops)


@pytest.mark.parametrize("width, depth", SOFTMAX_OVERHEAD_SIZES)
@pytest.mark.parametrize("output", ["softmax", "identity"])
def test_softmax_overhead_epoch(benchmark, classification_data, output, width, depth):
    """fastbp's classifier, and its regressor on the one-hot targets."""
    X, labels = classification_data
    if output == "softmax":
        trainer = make_trainer("fastbp", X, labels, (width,) * depth, "classification")
    else:
        Y = one_hot(labels, N_CLASSES, X.dtype)
        trainer = make_trainer("fastbp", X, Y, (width,) * depth)
    group = (
        f"fastbp, {N_CLASSES} softmax vs identity outputs: width {width}, "
        f"{depth} hidden, {X.dtype}"
    )
    flops = flops_per_epoch(width, depth, n_outputs=N_CLASSES)
    _time_epochs(benchmark, trainer, group, flops)
