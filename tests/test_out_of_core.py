"""partial_fit_blocks: training over a Dask array's row blocks, for both
estimators (a classifier's every call gets ``classes``)."""

import dask
import dask.array as da
import numpy as np
import pytest
from conftest import ESTIMATORS, assert_same_weights, make_data, sines
from numpy.testing import assert_array_equal

from fastbp import partial_fit_blocks

ROWS = (200, 300, 150)  # uneven row blocks
BOUNDS = np.cumsum((0, *ROWS))


def data(estimator, n_outputs=2):
    X, Y, weights = make_data(sum(ROWS), 4, sines(n_outputs), sample_weight=(0.5, 2.0))
    return X, estimator.targets(Y), weights


def make_model(estimator=ESTIMATORS["regressor"]):
    return estimator.cls((8,), batch_size=64, random_state=0)


def test_equals_the_same_partial_fit_calls_in_memory(estimator):
    """Row blocks of X (its columns in two chunks), y and sample_weight
    chunked otherwise: the same weights as partial_fit on the same rows."""
    X, Y, weights = data(estimator)
    fit_params = estimator.partial_fit_params(Y)
    by_blocks = partial_fit_blocks(
        make_model(estimator),
        da.from_array(X, chunks=(ROWS, 2)),
        da.from_array(Y, chunks=(325, 1)[: Y.ndim]),
        da.from_array(weights, chunks=100),
        epochs=2,
        **fit_params,
    )
    in_memory = make_model(estimator)
    for _ in range(2):
        for start, stop in zip(BOUNDS[:-1], BOUNDS[1:]):
            in_memory.partial_fit(
                X[start:stop],
                Y[start:stop],
                sample_weight=weights[start:stop],
                **fit_params,
            )
    assert by_blocks.t_ == in_memory.t_ == 2 * len(X)
    assert by_blocks.loss_curve_ == in_memory.loss_curve_
    assert_same_weights(by_blocks, in_memory)


def test_numpy_targets_and_no_weights(estimator):
    X, y, _ = data(ESTIMATORS["regressor"], n_outputs=1)
    y = estimator.targets(y.astype(np.float32))
    fit_params = estimator.partial_fit_params(y)
    by_blocks = partial_fit_blocks(
        make_model(estimator),
        da.from_array(X.astype(np.float32), chunks=(ROWS, 4)),
        y,
        **fit_params,
    )
    in_memory = make_model(estimator)
    for start, stop in zip(BOUNDS[:-1], BOUNDS[1:]):
        in_memory.partial_fit(
            X[start:stop].astype(np.float32), y[start:stop], **fit_params
        )
    assert by_blocks.coefs_[0].dtype == np.float32
    assert_array_equal(by_blocks.predict(X), in_memory.predict(X))


class RecordingCalls:
    """Passes partial_fit on to a model, noting which blocks were loaded."""

    def __init__(self, model, loaded):
        self.model, self.loaded, self.calls = model, loaded, []

    def partial_fit(self, X, y, **fit_params):
        self.calls.append((list(self.loaded), len(X)))
        self.model.partial_fit(X, y, **fit_params)


def test_one_block_is_loaded_for_each_call_and_only_once(estimator):
    """Blocks are loaded lazily, in order, one per call; y computed from the
    same block does not load it a second time."""
    X_memory, _, _ = data(estimator)
    loaded = []

    def load(block):
        loaded.append(block)
        return X_memory[BOUNDS[block] : BOUNDS[block + 1]]

    X = da.concatenate(
        [
            da.from_delayed(dask.delayed(load)(i), shape=(n, 4), dtype=float)
            for i, n in enumerate(ROWS)
        ]
    )
    # The targets of each block (a classifier's labels by the block's terciles).
    targets = estimator.targets(np.sin(2 * X_memory[:, 0]))
    y = da.sin(2 * X[:, 0]).map_blocks(estimator.targets, dtype=targets.dtype)
    recorder = RecordingCalls(make_model(estimator), loaded)
    fit_params = estimator.partial_fit_params(targets)
    partial_fit_blocks(recorder, X, y, epochs=2, **fit_params)
    assert recorder.calls == [
        ([0], 200), ([0, 1], 300), ([0, 1, 2], 150),
        ([0, 1, 2, 0], 200), ([0, 1, 2, 0, 1], 300), ([0, 1, 2, 0, 1, 2], 150),
    ]  # fmt: skip
    assert recorder.model.t_ == 2 * sum(ROWS)


@pytest.mark.parametrize(
    "X, y, message",
    [
        (np.zeros(6), np.zeros(6), "2-D"),
        (np.zeros((6, 2)), np.zeros(5), "6 rows but y has 5"),
    ],
)
def test_bad_shapes_are_refused(X, y, message):
    with pytest.raises(ValueError, match=message):
        partial_fit_blocks(make_model(), da.from_array(X), y)


@pytest.mark.parametrize(
    "y, epochs, message",
    [
        (None, 1, "needs targets y"),
        (np.zeros(6), 0, "epochs must be a positive integer"),
        (np.zeros(6), 1.5, "epochs must be a positive integer"),
    ],
)
def test_missing_targets_and_bad_epochs_are_refused(y, epochs, message):
    X = da.from_array(np.zeros((6, 2)), chunks=3)
    with pytest.raises(ValueError, match=message):
        partial_fit_blocks(make_model(), X, y, epochs=epochs)


def test_unknown_block_sizes_are_refused_with_the_remedy():
    X = da.from_array(np.arange(12.0).reshape(6, 2), chunks=3)
    keep = X[:, 0] > 2
    with pytest.raises(ValueError, match=r"X.compute_chunk_sizes\(\)"):
        partial_fit_blocks(make_model(), X[keep], X[keep][:, 1])


def test_empty_blocks_are_skipped(estimator):
    """Blocks left empty by a filter are skipped: the result is that of the
    calls on the non-empty blocks."""
    X_np, y_np = estimator.make_data(
        240, 3, lambda X: X[:, 0] - X[:, 1], inputs="normal"
    )
    fit_params = estimator.partial_fit_params(y_np)
    X = da.from_array(X_np, chunks=80)
    keep = da.from_array(np.r_[np.ones(80), np.zeros(80), np.ones(80)] > 0, chunks=80)
    X_kept, y_kept = X[keep], da.from_array(y_np, chunks=80)[keep]
    X_kept.compute_chunk_sizes()
    y_kept.compute_chunk_sizes()
    assert X_kept.chunks[0] == (80, 0, 80)
    streamed = partial_fit_blocks(
        make_model(estimator), X_kept, y_kept, epochs=2, **fit_params
    )
    expected = make_model(estimator)
    for _ in range(2):
        for rows in (slice(0, 80), slice(160, 240)):
            expected.partial_fit(X_np[rows], y_np[rows], **fit_params)
    assert_same_weights(streamed, expected)


def test_ctrl_c_ends_the_loop(estimator, monkeypatch):
    """Ctrl-C in one partial_fit ends the pass over the blocks: that call
    keeps its last finished epoch and warns, no further block is trained."""
    import fastbp._stochastic

    calls = []
    run_epoch = fastbp._stochastic.run_epoch

    def interrupted_on_the_second_call(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as Ctrl-C during the kernel
        return run_epoch(*args)

    monkeypatch.setattr(fastbp._stochastic, "run_epoch", interrupted_on_the_second_call)
    X_np, y_np = estimator.make_data(240, 2, lambda X: X[:, 0], inputs="normal")
    model = make_model(estimator)
    fit_params = estimator.partial_fit_params(y_np)
    with pytest.warns(UserWarning, match="interrupted"):
        partial_fit_blocks(
            model,
            da.from_array(X_np, chunks=80),
            da.from_array(y_np, chunks=80),
            epochs=3,
            **fit_params,
        )
    assert len(calls) == 2  # of 9 blocks x passes
    assert model.t_ == 80  # only the first call's block counted


def test_no_rows_is_refused_and_zero_weight_blocks_are_skipped(estimator):
    X_np, y_np = estimator.make_data(240, 3, lambda X: X[:, 0], inputs="normal")
    fit_params = estimator.partial_fit_params(y_np)
    with pytest.raises(ValueError, match="no rows"):
        partial_fit_blocks(
            make_model(estimator), da.from_array(X_np[:0]), y_np[:0], **fit_params
        )
    weights = np.r_[np.ones(80), np.zeros(80), np.ones(80)]
    streamed = partial_fit_blocks(
        make_model(estimator),
        da.from_array(X_np, chunks=80),
        y_np,
        sample_weight=weights,
        **fit_params,
    )
    expected = make_model(estimator)
    for rows in (slice(0, 80), slice(160, 240)):
        expected.partial_fit(
            X_np[rows], y_np[rows], sample_weight=weights[rows], **fit_params
        )
    assert_same_weights(streamed, expected)
