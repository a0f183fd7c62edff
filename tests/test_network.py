"""Tests of fastbp._network against the NumPy references in naive.py."""

import naive
import numpy as np
import pytest

from fastbp._activations import ACTIVATION_CODES
from fastbp._layout import parameter_offsets
from fastbp._network import (
    backprop,
    batch_workspaces,
    gather_rows,
    loss_and_gradient,
    predict,
    run_epoch,
    scratch_size,
)
from fastbp._optimizers import SOLVER_CODES, optimizer_hyperparameters
from fastbp._team import solo

DTYPES = [np.float32, np.float64]
NAMES = ["identity", "logistic", "tanh", "relu", "leaky_relu", "elu"]
N_FEATURES = 4
# (hidden_layer_sizes, hidden activation); the activation is unused without a
# hidden layer.
NETWORKS = [((), "identity")] + [
    (hidden, name) for hidden in [(6,), (5, 4)] for name in NAMES
]
NETWORK_IDS = [
    "-".join(map(str, hidden)) + "-" + name if hidden else "no-hidden"
    for hidden, name in NETWORKS
]
SOLVERS = {
    "sgd": {
        "solver": "sgd",
        "learning_rate": 0.05,
        "momentum": 0.9,
        "nesterov": False,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-8,
    },
    "nesterov": {
        "solver": "sgd",
        "learning_rate": 0.05,
        "momentum": 0.8,
        "nesterov": True,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-8,
    },
    "adam": {
        "solver": "adam",
        "learning_rate": 0.01,
        "momentum": 0.9,
        "nesterov": False,
        "beta_1": 0.8,
        "beta_2": 0.95,
        "epsilon": 1e-6,
    },
}


def _network(hidden, n_outputs, hidden_name, out_name, dtype, seed=0):
    """The kernels' ``network = (units, offsets, codes)``, the activation
    names and random flat params of a network."""
    units = np.array([N_FEATURES, *hidden, n_outputs], dtype=np.int64)
    names = [hidden_name] * len(hidden) + [out_name]
    codes = np.array([ACTIVATION_CODES[name] for name in names], dtype=np.int64)
    offsets = parameter_offsets(units)
    rng = np.random.default_rng(seed)
    params = rng.uniform(-1, 1, offsets[-1]).astype(dtype)
    return (units, offsets, codes), names, params


def _data(n, n_outputs, dtype, seed=1):
    """X, Y and random non-negative sample weights, one of them zero."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_FEATURES)).astype(dtype)
    Y = rng.standard_normal((n, n_outputs)).astype(dtype)
    w = rng.uniform(0, 2, n).astype(dtype)
    w[1] = 0.0
    return X, Y, w


def _as64(*arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("hidden", "hidden_name"), NETWORKS, ids=NETWORK_IDS)
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("out_name", NAMES)
def test_backprop_matches_reference(dtype, hidden, hidden_name, n_outputs, out_name):
    """backprop returns the batch loss and writes its gradient, L2 term included."""
    network, names, params = _network(hidden, n_outputs, hidden_name, out_name, dtype)
    units = network[0]
    n, capacity, alpha = 9, 12, 0.3
    X, Y, w = _data(n, n_outputs, dtype)
    acts = np.full(capacity * units.sum(), np.nan, dtype=dtype)
    acts[: n * N_FEATURES] = X.ravel()
    deltas = np.full_like(acts, np.nan)
    grad = np.full_like(params, np.nan)
    params_before = params.copy()
    loss = backprop(
        params, grad, network, alpha, (0, 1.0), X, acts, deltas,
        np.full(scratch_size(units), np.nan, dtype=dtype), Y, w, n, 1.0, 1, solo(),
    )  # fmt: skip
    expected_loss, expected_grad = naive.flat_backprop(
        *_as64(params), units, names, *_as64(X, Y, w), alpha
    )
    naive.assert_close(loss, expected_loss, dtype)
    naive.assert_close(grad, expected_grad, dtype)
    np.testing.assert_array_equal(params, params_before)


@pytest.mark.parametrize("dtype", DTYPES)
def test_backprop_zero_weight_batch(dtype):
    """A batch whose weights sum to zero has loss 0 and a zero gradient."""
    network, _, params = _network((5,), 2, "tanh", "identity", dtype)
    units, n = network[0], 6
    X, Y, _ = _data(n, 2, dtype)
    acts = np.empty(n * units.sum(), dtype=dtype)
    acts[: n * N_FEATURES] = X.ravel()
    grad = np.full_like(params, np.nan)
    loss = backprop(
        params, grad, network, 0.3, (0, 1.0), X, acts, np.empty_like(acts),
        np.empty(scratch_size(units), dtype=dtype), Y, np.zeros(n, dtype=dtype), n,
        1.0, 1, solo(),
    )  # fmt: skip
    assert loss == 0.0
    np.testing.assert_array_equal(grad, 0.0)


@pytest.mark.parametrize("out_name", NAMES)
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_reference_gradient_matches_finite_differences(out_name, n_outputs):
    """The oracle naive.backprop is the gradient of n_outputs * error + L2 term."""
    network, names, params = _network((5,), n_outputs, "tanh", out_name, np.float64)
    units = network[0]
    X, Y, w = _data(9, n_outputs, np.float64)
    alpha = 0.3

    def objective(theta):
        coefs, intercepts = naive.unpack(theta, units)
        P = naive.forward(coefs, intercepts, names, X)[-1]
        l2 = 0.5 * alpha * sum(np.sum(W**2) for W in coefs) / w.sum()
        return n_outputs * naive.squared_error(P, Y, w) + l2

    _, grad = naive.flat_backprop(params, units, names, X, Y, w, alpha)
    h = 1e-6
    numeric = np.array(
        [
            (objective(params + h * e) - objective(params - h * e)) / (2 * h)
            for e in np.eye(params.size)
        ]
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_rows_matches_fancy_indexing(dtype):
    """gather_rows copies rows order[start:start + n_rows] and nothing else."""
    units = np.array([N_FEATURES, 5, 3], dtype=np.int64)
    n, capacity, start, n_rows = 13, 6, 4, 5
    X, Y, w = _data(n, 3, dtype)
    order = np.random.default_rng(2).permutation(n)
    acts = np.full(capacity * units.sum(), np.nan, dtype=dtype)
    deltas = np.full_like(acts, np.nan)
    Y_batch = np.full((capacity, 3), np.nan, dtype=dtype)
    w_batch = np.full(capacity, np.nan, dtype=dtype)
    workspaces = (acts, deltas, Y_batch, w_batch, np.empty(0, dtype=dtype))
    gather_rows((X, Y, w), order, start, n_rows, units, workspaces, solo())
    rows = order[start : start + n_rows]
    np.testing.assert_array_equal(
        acts[: n_rows * N_FEATURES].reshape(n_rows, N_FEATURES), X[rows]
    )
    np.testing.assert_array_equal(Y_batch[:n_rows], Y[rows])
    np.testing.assert_array_equal(w_batch[:n_rows], w[rows])
    assert np.isnan(acts[n_rows * N_FEATURES :]).all()
    assert np.isnan(Y_batch[n_rows:]).all() and np.isnan(w_batch[n_rows:]).all()
    assert np.isnan(deltas).all()  # the errors' workspace is not touched


def _run_epoch(X, Y, w, order, batch_size, params, state, step, network, alpha, case):
    """Call the kernel with fresh workspaces; returns (total, step)."""
    workspaces = batch_workspaces(network[0], batch_size, params.dtype)
    hyper = optimizer_hyperparameters(
        case["learning_rate"],
        case["momentum"],
        case["nesterov"],
        case["beta_1"],
        case["beta_2"],
        case["epsilon"],
    )
    return run_epoch(
        (X, Y, w), order, batch_size, params, np.empty_like(params), network,
        alpha, (0, 1.0), workspaces, (SOLVER_CODES[case["solver"]], state, hyper),
        step, 1, solo(),
    )  # fmt: skip


def _epoch_setup(dtype, hidden, seed=0):
    network, names, params = _network(hidden, 3, "tanh", "identity", dtype, seed=seed)
    n = 23
    X, Y, w = _data(n, 3, dtype)
    rng = np.random.default_rng(3)
    order = rng.permutation(n)
    # A state left by earlier updates: velocity / first moment of any sign,
    # non-negative second moment.
    state = np.stack(
        [0.01 * rng.standard_normal(params.size), 0.01 * rng.uniform(size=params.size)]
    ).astype(dtype)
    return network, names, params, X, Y, w, order, state


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", list(SOLVERS))
@pytest.mark.parametrize("hidden", [(), (5, 4)], ids=["no-hidden", "5-4"])
def test_run_epoch_matches_reference(dtype, solver, hidden):
    """run_epoch trains like a NumPy loop over batches of a permutation."""
    network, names, params, X, Y, w, order, state = _epoch_setup(dtype, hidden)
    batch_size, step, alpha, case = 5, 3, 0.2, SOLVERS[solver]
    expected_params, expected_state, expected_total, expected_step = naive.run_epoch(
        *_as64(X, Y, w),
        order,
        batch_size,
        *_as64(params),
        network[0],
        names,
        alpha,
        case["solver"],
        *_as64(state),
        step,
        case,
    )
    assert np.abs(expected_params - params).max() > 1e-3  # the epoch moves them
    total, step = _run_epoch(
        X, Y, w, order, batch_size, params, state, step, network, alpha, case
    )
    assert step == expected_step == 3 + 5  # 23 rows in batches of 5: 5 updates
    naive.assert_close(total, expected_total, dtype)
    naive.assert_close(params, expected_params, dtype)
    naive.assert_close(state[0], expected_state[0], dtype)
    naive.assert_close(state[1], expected_state[1], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_run_epoch_skips_zero_weight_batch(dtype, solver):
    """A batch of zero weight makes no update and does not count as a step."""
    network, names, params, X, Y, w, order, state = _epoch_setup(dtype, (6,))
    batch_size, alpha, case = 5, 0.2, SOLVERS[solver]
    w[order[5:10]] = 0.0  # the second batch
    expected = naive.run_epoch(
        *_as64(X, Y, w),
        order,
        batch_size,
        *_as64(params),
        network[0],
        names,
        alpha,
        case["solver"],
        *_as64(state),
        3,
        case,
    )
    kept = np.concatenate([order[:5], order[10:]])
    params_kept, state_kept = params.copy(), state.copy()
    total_kept, step_kept = _run_epoch(
        X, Y, w, kept, batch_size, params_kept, state_kept, 3, network, alpha, case
    )
    total, step = _run_epoch(
        X, Y, w, order, batch_size, params, state, 3, network, alpha, case
    )
    assert step == step_kept == expected[3] == 3 + 4
    # Same as an epoch without that batch, bit for bit.
    assert total == total_kept
    np.testing.assert_array_equal(params, params_kept)
    np.testing.assert_array_equal(state, state_kept)
    naive.assert_close(total, expected[2], dtype)
    naive.assert_close(params, expected[0], dtype)
    naive.assert_close(state[0], expected[1][0], dtype)
    naive.assert_close(state[1], expected[1][1], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_run_epoch_all_zero_weights_changes_nothing(dtype, solver):
    """With every weight zero, no batch updates: params, state, step unchanged."""
    network, _, params, X, Y, w, order, state = _epoch_setup(dtype, (6,))
    params_before, state_before = params.copy(), state.copy()
    total, step = _run_epoch(
        X, Y, np.zeros_like(w), order, 5, params, state, 3, network, 0.2,
        SOLVERS[solver],
    )  # fmt: skip
    assert (total, step) == (0.0, 3)
    np.testing.assert_array_equal(params, params_before)
    np.testing.assert_array_equal(state, state_before)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "hidden", [(), (6,), (5, 7, 3)], ids=["no-hidden", "6", "5-7-3"]
)
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("chunk_rows", [5, 7])
def test_predict_matches_reference(dtype, hidden, name, chunk_rows):
    """predict writes the forward pass of every row, chunk by chunk, into out."""
    network, names, params = _network(hidden, 2, name, name, dtype)
    X, _, _ = _data(23, 2, dtype)
    X_before = X.copy()
    out = np.full((23, 2), np.nan, dtype=dtype)
    predict(X, params, network, chunk_rows, out)
    naive.assert_close(
        out, naive.predict(*_as64(params), network[0], names, *_as64(X)), dtype
    )
    np.testing.assert_array_equal(X, X_before)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("hidden", "hidden_name"), NETWORKS, ids=NETWORK_IDS)
def test_loss_and_gradient_matches_reference(dtype, hidden, hidden_name):
    """loss_and_gradient is backprop on all of (X, Y) as one batch."""
    network, names, params = _network(hidden, 3, hidden_name, "logistic", dtype)
    X, Y, w = _data(17, 3, dtype)
    loss, grad = loss_and_gradient(params, X, Y, w, network, 0.3)
    expected_loss, expected_grad = naive.flat_backprop(
        *_as64(params), network[0], names, *_as64(X, Y, w), 0.3
    )
    assert grad.dtype == dtype
    naive.assert_close(loss, expected_loss, dtype)
    naive.assert_close(grad, expected_grad, dtype)
