"""Tests of fastbp._optimizers against scikit-learn's optimizers.

scikit-learn's ``SGDOptimizer`` and ``AdamOptimizer`` work on lists of arrays;
they are given one flat float64 array in a list.
"""

import naive
import numpy as np
import pytest
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

from fastbp._optimizers import (
    SOLVER_CODES,
    adam_update,
    optimizer_hyperparameters,
    optimizer_step,
    sgd_update,
)

DTYPES = [np.float32, np.float64]
N_PARAMS, N_STEPS = 11, 4
SGD_CASES = {
    "plain": {"momentum": 0.0, "nesterov": False},
    "momentum": {"momentum": 0.9, "nesterov": False},
    "nesterov": {"momentum": 0.9, "nesterov": True},
}


def _params_and_grads(dtype, seed=0):
    rng = np.random.default_rng(seed)
    params = rng.standard_normal(N_PARAMS).astype(dtype)
    grads = [rng.standard_normal(N_PARAMS).astype(dtype) for _ in range(N_STEPS)]
    return params, grads


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(SGD_CASES))
def test_sgd_update_matches_sklearn(dtype, case):
    """Consecutive sgd_update steps follow SGDOptimizer's params and velocity."""
    momentum, nesterov = SGD_CASES[case]["momentum"], SGD_CASES[case]["nesterov"]
    params, grads = _params_and_grads(dtype)
    velocity = np.zeros_like(params)
    reference = [params.astype(np.float64)]
    sgd = SGDOptimizer(
        reference, learning_rate_init=0.1, momentum=momentum, nesterov=nesterov
    )
    for grad in grads:
        sgd_update(params, grad, velocity, 0.1, momentum, nesterov)
        sgd.update_params(reference, [grad.astype(np.float64)])
        naive.assert_close(params, reference[0], dtype)
        naive.assert_close(velocity, sgd.velocities[0], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_update_matches_sklearn(dtype):
    """Consecutive adam_update steps follow AdamOptimizer's params and moments."""
    params, grads = _params_and_grads(dtype)
    m, v = np.zeros_like(params), np.zeros_like(params)
    reference = [params.astype(np.float64)]
    adam = AdamOptimizer(
        reference, learning_rate_init=0.01, beta_1=0.8, beta_2=0.95, epsilon=1e-6
    )
    for step, grad in enumerate(grads, start=1):
        adam_update(params, grad, m, v, step, 0.01, 0.8, 0.95, 1e-6)
        adam.update_params(reference, [grad.astype(np.float64)])
        naive.assert_close(params, reference[0], dtype)
        naive.assert_close(m, adam.ms[0], dtype)
        naive.assert_close(v, adam.vs[0], dtype)


def _sklearn_optimizer(solver, reference):
    """scikit-learn's optimizer with the hyper-parameters these tests use."""
    if solver == "sgd":
        return SGDOptimizer(
            reference, learning_rate_init=0.05, momentum=0.7, nesterov=True
        )
    return AdamOptimizer(
        reference, learning_rate_init=0.05, beta_1=0.8, beta_2=0.95, epsilon=1e-6
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_optimizer_step_matches_sklearn(dtype, solver):
    """optimizer_step runs the solver's update with the hyper array's values."""
    params, grads = _params_and_grads(dtype, seed=1)
    state = np.zeros((2, N_PARAMS), dtype=dtype)
    hyper = optimizer_hyperparameters(
        learning_rate=0.05,
        momentum=0.7,
        nesterov=True,
        beta_1=0.8,
        beta_2=0.95,
        epsilon=1e-6,
    )
    reference = [params.astype(np.float64)]
    optimizer = _sklearn_optimizer(solver, reference)
    for step, grad in enumerate(grads, start=1):
        optimizer_step(SOLVER_CODES[solver], params, grad, state, step, hyper)
        optimizer.update_params(reference, [grad.astype(np.float64)])
        naive.assert_close(params, reference[0], dtype)
        if solver == "sgd":
            naive.assert_close(state[0], optimizer.velocities[0], dtype)
            np.testing.assert_array_equal(state[1], 0.0)
        else:
            naive.assert_close(state[0], optimizer.ms[0], dtype)
            naive.assert_close(state[1], optimizer.vs[0], dtype)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_reference_optimizers_match_sklearn(solver):
    """naive.sgd and naive.adam (run_epoch's oracle) are scikit-learn's updates."""
    params, grads = _params_and_grads(np.float64, seed=2)
    state = [np.zeros_like(params), np.zeros_like(params)]
    reference = [params.copy()]
    optimizer = _sklearn_optimizer(solver, reference)
    for step, grad in enumerate(grads, start=1):
        if solver == "sgd":
            params, state[0] = naive.sgd(params, grad, state[0], 0.05, 0.7, True)
        else:
            params, *state = naive.adam(
                params, grad, *state, step, 0.05, 0.8, 0.95, 1e-6
            )
        optimizer.update_params(reference, [grad])
    assert not np.allclose(params, _params_and_grads(np.float64, seed=2)[0])
    naive.assert_close(params, reference[0], np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_updates_never_leave_subnormal_numbers(dtype):
    """Weights and moments that decay towards 0 are flushed before they turn
    subnormal (subnormal arithmetic is ~100x slower)."""
    tiny = np.finfo(dtype).tiny
    params = np.array([1e-20, 1.0, -1e-20], dtype=dtype)
    state = np.zeros((2, 3), dtype=dtype)
    grad = np.array([1e-20, 0.0, 0.0], dtype=dtype)
    velocity = np.zeros(3, dtype=dtype)
    for step in range(1, 7000):
        adam_update(
            params, grad * 0.5**step, state[0], state[1], step, 1e-3, 0.9, 0.999, 1e-8
        )
        sgd_update(params, grad * 0.5**step, velocity, 1e-3, 0.9, True)
        for array in (params, state[0], state[1], velocity):
            assert not np.any((array != 0) & (np.abs(array) < tiny))
    assert state[0][0] == 0.0  # the first moment decayed and was flushed
