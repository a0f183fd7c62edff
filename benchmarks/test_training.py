"""Seconds per training epoch by width and depth, fastbp against its peers.

Run from the repository root: ``python -m pytest benchmarks``. The unit test
run does not collect this directory. One group per network size and dtype,
so all implementations of a size share a table; compilation runs before the
timed rounds; ``extra_info`` records the FLOPs of an epoch.
"""

import pytest

from .implementations import IMPLEMENTATIONS, make_trainer, missing_reason
from .workload import flops_per_epoch, grid


@pytest.mark.parametrize("width, depth", grid())
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_epoch(benchmark, workload_data, implementation, width, depth):
    reason = missing_reason(implementation)
    if reason:
        pytest.skip(reason)
    X, y = workload_data
    trainer = make_trainer(implementation, X, y, (width,) * depth)
    trainer.compile()
    benchmark.group = f"epoch: width {width}, {depth} hidden, {X.dtype}"
    benchmark.extra_info["flops_per_epoch"] = flops_per_epoch(width, depth)
    benchmark.pedantic(trainer.train, args=(1,), rounds=3, iterations=1)
