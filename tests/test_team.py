"""Tests of fastbp._team: teams of threads give one thread's bits."""

import threading
import time
import warnings

import numpy as np
import pytest
from conftest import assert_same_weights
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from fastbp import _gemm
from fastbp._activations import ACTIVATION_CODES, OUTPUT_CODES
from fastbp._dense import dense_backward, dense_forward, dense_gradient
from fastbp._jit import jit
from fastbp._layout import parameter_offsets
from fastbp._network import batch_workspaces, run_epoch
from fastbp._optimizers import SOLVER_CODES, optimizer_hyperparameters
from fastbp._parallel import PARALLEL_MIN_MACS
from fastbp._team import EpochTeam, barrier, new_sync, part, solo

RELU = ACTIVATION_CODES["relu"]
needs_tiles = pytest.mark.skipif(not _gemm.SIMD, reason="teams run on the tiles only")


def as_team(kernel, ranks, *args):
    """Run ``kernel(*args, team)`` as every member of a team of ``ranks``
    threads at once (member 0 in this thread)."""
    sync = new_sync()
    errors = []

    def member(rank):
        try:
            kernel(*args, (sync, rank, ranks))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    others = [threading.Thread(target=member, args=(r,)) for r in range(1, ranks)]
    for thread in others:
        thread.start()
    member(0)
    for thread in others:
        thread.join()
    assert not errors, errors


@jit
def _exchange(seen, rounds, team):
    """Each round, every member writes the round into its slot, meets the
    others, and records whether it sees the round in every slot."""
    sync, rank, ranks = team
    for r in range(1, rounds + 1):
        seen[rank, 0] = r
        barrier(team)
        for other in range(ranks):
            if seen[other, 0] != r:
                seen[rank, 1] += 1
        barrier(team)


@pytest.mark.parametrize("ranks", [2, 3])
def test_barrier_lets_no_member_pass_before_all_arrive(ranks):
    rounds = 2000
    seen = np.zeros((ranks, 2), dtype=np.int64)
    as_team(_exchange, ranks, seen, rounds)
    np.testing.assert_array_equal(seen[:, 0], rounds)
    np.testing.assert_array_equal(seen[:, 1], 0)  # no stale slot ever seen


@jit
def _parts(n, grain, ranks):
    sync = np.zeros(8, dtype=np.int64)
    out = np.empty((ranks, 2), dtype=np.int64)
    for rank in range(ranks):
        out[rank] = part(n, grain, (sync, rank, ranks))
    return out


@pytest.mark.parametrize("n", [0, 1, 5, 6, 7, 200, 201])
@pytest.mark.parametrize("grain", [1, 6, 32])
@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_parts_cover_every_item_once_in_whole_grains(n, grain, ranks):
    parts = _parts(n, grain, ranks)
    assert parts[0, 0] == 0 and parts[-1, 1] == n
    np.testing.assert_array_equal(parts[1:, 0], parts[:-1, 1])  # contiguous
    assert (parts[:, 1] >= parts[:, 0]).all()
    assert (parts[:-1, 1] % grain == 0).all()


def _layer(n, fan_in, fan_out, dtype, code, output=False):
    rng = np.random.default_rng(fan_in * 1000 + fan_out)
    A_prev = np.tanh(rng.standard_normal((n, fan_in))).astype(dtype)
    A_prev[A_prev < -0.5] = 0.0  # zeros for relu's derivative
    return dict(
        A_prev=A_prev,
        W=rng.standard_normal((fan_in, fan_out)).astype(dtype),
        b=rng.standard_normal(fan_out).astype(dtype),
        delta=rng.standard_normal((n, fan_out)).astype(dtype),
        A=np.full((n, fan_out), np.nan, dtype=dtype),
        dW=np.full((fan_in, fan_out), np.nan, dtype=dtype),
        db=np.full(fan_out, np.nan, dtype=dtype),
        delta_prev=np.full((n, fan_in), np.nan, dtype=dtype),
        scratch=np.full((fan_in + 64) * fan_out, np.nan, dtype=dtype),
        code=code,
    )


@jit
def _layer_kernels(A_prev, W, b, delta, A, dW, db, delta_prev, scratch, code, team):
    dense_forward(A_prev, W, b, A, code, 1, team)
    dense_gradient(A_prev, delta, W, 0.25, 7.0, dW, db, 1, team)
    dense_backward(delta, W, A_prev, RELU, delta_prev, scratch, 1, team)
    barrier(team)


def _layer_results(shape, dtype, activation, ranks):
    n, fan_in, fan_out = shape
    code = OUTPUT_CODES[activation]
    arrays = _layer(n, fan_in, fan_out, dtype, code)
    args = [arrays[k] for k in ("A_prev", "W", "b", "delta", "A", "dW", "db",
                                "delta_prev", "scratch")]  # fmt: skip
    if ranks == 1:
        _layer_kernels(*args, code, solo())
    else:
        as_team(_layer_kernels, ranks, *args, code)
    return [arrays[k] for k in ("A", "dW", "db", "delta_prev")]


SHAPES = [
    (200, 64, 64),  # rows split everywhere
    (200, 8, 256),  # dW split by columns (more outputs than inputs)
    (200, 64, 10),  # a narrow output
    (200, 256, 1),  # one unit
    (5, 16, 16),  # fewer rows than a tile: one member has none
    (147, 300, 130),  # a large product: forward and backward split by columns
]


@needs_tiles
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("activation", ["relu", "tanh", "softmax"])
def test_a_team_computes_one_thread_s_bits(dtype, shape, activation):
    if activation == "softmax" and shape[2] == 1:
        pytest.skip("a softmax needs two units or more")
    assert np.prod(SHAPES[-1]) >= PARALLEL_MIN_MACS  # the column paths run
    alone = _layer_results(shape, dtype, activation, 1)
    for ranks in (2, 3):
        for got, expected in zip(_layer_results(shape, dtype, activation, ranks), alone):
            np.testing.assert_array_equal(got, expected)


def _epoch(hidden, solver, ranks, weights="ones"):
    rng = np.random.default_rng(5)
    n, n_features = 437, 12  # a short last batch
    X = rng.standard_normal((n, n_features))
    Y = rng.standard_normal((n, 2))
    w = np.ones(n) if weights == "ones" else rng.integers(0, 3, n).astype(float)

    units = np.array([n_features, *hidden, 2], dtype=np.int64)
    offsets = parameter_offsets(units)
    codes = np.array([RELU] * len(hidden) + [ACTIVATION_CODES["identity"]])
    network = (units, offsets, codes)
    params = rng.standard_normal(offsets[-1]) * 0.3
    state = np.zeros((2, params.shape[0]))
    hyper = optimizer_hyperparameters(1e-2, 0.9, True, 0.9, 0.999, 1e-8)
    optimizer = (SOLVER_CODES[solver], state, hyper)
    batch = 60
    workspaces = batch_workspaces(units, batch, np.float64)
    order = rng.permutation(n)
    w[order[:batch]] = 0.0  # a batch of zero weight, skipped
    grad = np.empty_like(params)
    results = {}

    def kernel(team):
        results[team[1]] = run_epoch((X, Y, w), order, batch, params, grad, network,
                                 1e-3, (0, 1.0), workspaces, optimizer, 3, 1,
                                 team)  # fmt: skip

    if ranks == 1:
        kernel(solo())
    else:
        sync = new_sync()
        others = [
            threading.Thread(target=kernel, args=((sync, r, ranks),))
            for r in range(1, ranks)
        ]
        for thread in others:
            thread.start()
        kernel((sync, 0, ranks))
        for thread in others:
            thread.join()
    return params, state, results[0]


@needs_tiles
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("hidden", [(64,), (40, 300), (7, 9, 11)])
def test_an_epoch_by_a_team_equals_one_thread_s(solver, hidden):
    params, state, (total, step) = _epoch(hidden, solver, 1)
    for ranks in (2, 3):
        team_params, team_state, (team_total, team_step) = _epoch(hidden, solver, ranks)
        np.testing.assert_array_equal(team_params, params)
        np.testing.assert_array_equal(team_state, state)
        assert (team_total, team_step) == (total, step)


def test_a_dismissed_team_ends_its_threads_and_reports_a_failure():
    calls = []

    def epoch(step, team):
        calls.append((step, team[1]))
        if len(calls) == 2:
            raise ValueError("broken")

    with EpochTeam(3, epoch) as crew:
        crew.start_epoch(4)
        # Members 1 and 2 serve the epoch; one fails and dismisses the team.
        for _ in range(1000):
            if crew.failure is not None:
                break
            time.sleep(0.01)
        with pytest.raises(RuntimeError, match="a training thread failed"):
            crew.check()
    assert sorted(calls) == [(4, 1), (4, 2)]
    assert not [t for t in threading.enumerate() if t.name.startswith("fastbp-team")]


TEAM_HIDDEN = (64, 64, 64)  # trains as a team (see _threads.team_size)


@pytest.fixture
def team_of_two():
    import numba

    from fastbp._threads import team_size

    if team_size(200, np.array([6, *TEAM_HIDDEN, 1]), 8) < 2 or numba.get_num_threads() < 2:
        pytest.skip("fits here train alone")


def _fit(estimator, max_iter):
    X, y = estimator.make_data(400, 6, lambda X: np.sin(X[:, 0]), inputs="normal")
    model = estimator.cls(hidden_layer_sizes=TEAM_HIDDEN, max_iter=max_iter,
                          random_state=0)  # fmt: skip
    return model, X, y


def test_ctrl_c_while_the_team_waits_keeps_the_last_epoch(estimator, monkeypatch,
                                                         team_of_two):  # fmt: skip
    """Ctrl-C between starting the team's epoch and joining it: the members
    are released, end their threads, and change nothing; the fit keeps its
    first epoch (its weights are a one-epoch fit's)."""
    import fastbp._stochastic

    run_epoch = fastbp._stochastic.run_epoch
    calls = []

    ranks = set()

    def interrupted_on_the_second_epoch(*args):
        ranks.add(args[-1][1])
        if args[-1][1] == 0:  # the fit's thread
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt  # the members already wait for it
        return run_epoch(*args)

    monkeypatch.setattr(fastbp._stochastic, "run_epoch", interrupted_on_the_second_epoch)
    model, X, y = _fit(estimator, 5)
    with pytest.warns(UserWarning, match="interrupted"):
        model.fit(X, y)
    monkeypatch.setattr(fastbp._stochastic, "run_epoch", run_epoch)
    reference, _, _ = _fit(estimator, 1)
    with pytest.warns(ConvergenceWarning):
        reference.fit(X, y)
    assert ranks == {0, 1}  # a team trained the first epoch
    assert model.n_iter_ == 1
    assert_same_weights(model, reference)
    assert not [t for t in threading.enumerate() if t.name.startswith("fastbp-team")]


def test_a_fit_by_a_team_equals_one_thread_s(estimator, team_of_two):
    import numba

    model, X, y = _fit(estimator, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        by_team = clone(model).fit(X, y)
        numba.set_num_threads(1)
        try:
            alone = clone(model).fit(X, y)
        finally:
            numba.set_num_threads(2)
    assert_same_weights(by_team, alone)


def test_a_team_keeps_the_faster_way_and_retries_the_other():
    """A team's first epoch is not timed (its members wake up): two as a
    team, one alone, then the faster way, the other every RETRY_EVERY
    epochs (a team's twice); a slower last time switches."""
    from fastbp._team import RETRY_EVERY

    def run(team_seconds, epochs):
        with EpochTeam(2, lambda step, team: None) as crew:
            ways = []
            for epoch in range(epochs):
                by_team = crew.use_team()
                ways.append(by_team)
                crew.record(by_team, team_seconds(epoch) if by_team else 1.5)
        return ways

    faster = run(lambda epoch: 1.0, 2 * RETRY_EVERY)
    assert faster[:3] == [True, True, False]
    alone = [e - 1 for e in (RETRY_EVERY, 2 * RETRY_EVERY)]
    assert [e for e, way in enumerate(faster) if not way] == [2, *alone]
    # Slower from its fourth epoch (measured in its fifth, after a first
    # one back): alone, but for the retries, two epochs each.
    slower = run(lambda epoch: 1.0 if epoch < 3 else 2.0, 2 * RETRY_EVERY + 2)
    team = [e for e, way in enumerate(slower) if way]
    retries = [RETRY_EVERY - 1, RETRY_EVERY, 2 * RETRY_EVERY - 1, 2 * RETRY_EVERY]
    assert team == [0, 1, 3, 4, *retries]
