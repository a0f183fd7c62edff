"""Tests of fastbp._parallel: work split between threads gives serial bits."""

import numpy as np
import pytest

from fastbp._optimizers import ADAM, SGD, optimizer_hyperparameters, optimizer_step
from fastbp._parallel import PARALLEL_MIN_PARAMS, split_optimizer_step
from fastbp._team import solo


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver", [SGD, ADAM])
def test_split_optimizer_step_gives_the_serial_update(dtype, solver):
    """Parameters updated in 2 or 3 ranges (threads) are the serial update's,
    bit for bit, over several steps (the split path runs: enough
    parameters)."""
    rng = np.random.default_rng(0)
    n = PARALLEL_MIN_PARAMS + 12345
    params = rng.standard_normal(n).astype(dtype)
    state = np.zeros((2, n), dtype)
    hyper = optimizer_hyperparameters(1e-3, 0.9, True, 0.9, 0.999, 1e-8)
    grads = [rng.standard_normal(n).astype(dtype) for _ in range(3)]
    serial_params, serial_state = params.copy(), state.copy()
    for step, grad in enumerate(grads, start=1):
        optimizer_step(solver, serial_params, grad, serial_state, step, hyper)
    for threads in (2, 3):
        split_params, split_state = params.copy(), state.copy()
        for step, grad in enumerate(grads, start=1):
            split_optimizer_step(solver, split_params, grad, split_state, step,
                                 hyper, threads, solo())  # fmt: skip
        np.testing.assert_array_equal(split_params, serial_params)
        np.testing.assert_array_equal(split_state, serial_state)
