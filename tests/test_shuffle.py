"""The epochs' orders drawn ahead: the same orders, and the same random
stream after a fit, as shuffling before each epoch (scikit-learn's way)."""

import multiprocessing
import warnings

import numpy as np
import pytest
from conftest import assert_weights_close, make_data, sine_plus_linear
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from fastbp import BackpropClassifier, BackpropRegressor
from fastbp import _stochastic
from fastbp._shuffle import AHEAD_MIN_ROWS, EpochOrders


def _shuffled_orders(n_samples, seed, epochs):
    """Reference: ``shuffle`` in place before each epoch, and the stream's
    next draw after the last."""
    random_state = np.random.RandomState(seed)
    order = np.arange(n_samples)
    orders = []
    for _ in range(epochs):
        random_state.shuffle(order)
        orders.append(order.copy())
    return orders, random_state.randint(2**31)


@pytest.mark.parametrize("ahead", [False, True])
@pytest.mark.parametrize("epochs, max_epochs", [(1, 1), (1, 5), (4, 4), (4, 9)])
def test_orders_and_stream_are_those_of_a_shuffle_before_each_epoch(
    ahead, epochs, max_epochs
):
    # ``epochs`` of at most ``max_epochs`` run: when fewer, the last draw
    # ahead was not used, and closing takes it back.
    expected, next_draw = _shuffled_orders(1000, 3, epochs)
    random_state = np.random.RandomState(3)
    orders = EpochOrders(1000, random_state, shuffle=True, ahead=ahead)
    for epoch in range(epochs):
        orders.next_epoch(more=epoch + 1 < max_epochs)
        assert_array_equal(orders.current, expected[epoch])
    orders.close()
    assert random_state.randint(2**31) == next_draw


def test_without_shuffle_the_order_and_stream_stay():
    random_state = np.random.RandomState(0)
    orders = EpochOrders(50, random_state, shuffle=False, ahead=True)
    for _ in range(3):
        orders.next_epoch(more=True)
        assert_array_equal(orders.current, np.arange(50))
    orders.close()
    assert random_state.randint(2**31) == np.random.RandomState(0).randint(2**31)


def test_an_interrupted_wait_is_taken_back_on_close():
    # A Ctrl-C may land while the fit waits for the draw ahead: the draw was
    # not used, and closing restores the stream from before it.
    random_state = np.random.RandomState(1)
    orders = EpochOrders(AHEAD_MIN_ROWS, random_state, shuffle=True, ahead=True)
    orders.next_epoch(more=True)
    first = orders.current.copy()
    pending = orders._pending

    class Interrupted:
        def result(self):
            raise KeyboardInterrupt

    orders._pending = Interrupted()
    with pytest.raises(KeyboardInterrupt):
        orders.next_epoch(more=True)
    orders._pending = pending
    assert_array_equal(orders.current, first)
    orders.close()
    expected, next_draw = _shuffled_orders(AHEAD_MIN_ROWS, 1, 1)
    assert random_state.randint(2**31) == next_draw


ESTIMATORS = [
    (BackpropRegressor, MLPRegressor, lambda y: y),
    (BackpropClassifier, MLPClassifier, lambda y: np.where(y > 0.3, "a", "b")),
]


@pytest.mark.parametrize("cls, sklearn_cls, targets", ESTIMATORS)
@pytest.mark.parametrize(
    "stopping",
    [
        dict(max_iter=6),  # the last epoch draws nothing ahead
        dict(max_iter=60, tol=1e-2, n_iter_no_change=2),  # stops early
        dict(max_iter=60, early_stopping=True, n_iter_no_change=2, tol=1e-2),
    ],
    ids=["max_iter", "tol", "early_stopping"],
)
def test_fits_with_orders_drawn_ahead_match_scikit_learn(
    cls, sklearn_cls, targets, stopping
):
    # Enough rows for the draws ahead, and the estimators' random stream
    # given as one RandomState each: after the fit, both streams are at the
    # same place, whenever the fit stopped.
    X, y = make_data(AHEAD_MIN_ROWS + 100, 3, sine_plus_linear)
    y = targets(y)
    streams = np.random.RandomState(7), np.random.RandomState(7)
    models = [
        c(hidden_layer_sizes=(8,), batch_size=400, random_state=stream, **stopping)
        for c, stream in zip((cls, sklearn_cls), streams)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for model in models:
            model.fit(X, y)
    ours, theirs = models
    assert ours.n_iter_ == theirs.n_iter_
    assert_weights_close(ours, theirs, rtol=1e-9, atol=1e-12)
    assert streams[0].randint(2**31) == streams[1].randint(2**31)


def test_fit_draws_ahead_only_when_a_core_is_free(monkeypatch):
    # Ahead with two threads allowed; not with one, for partial_fit (one
    # epoch) or for few rows.
    made = []

    class Recording(EpochOrders):
        def __init__(self, n_samples, random_state, shuffle, ahead):
            super().__init__(n_samples, random_state, shuffle, ahead)
            made.append(ahead)

    monkeypatch.setattr(_stochastic, "EpochOrders", Recording)
    monkeypatch.setattr(_stochastic, "available_threads", lambda: 2)
    X, y = make_data(AHEAD_MIN_ROWS, 3, sine_plus_linear)
    model = BackpropRegressor((8,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        model.partial_fit(X, y)
        model.fit(X[:-1], y[:-1])
        monkeypatch.setattr(_stochastic, "available_threads", lambda: 1)
        model.fit(X, y)
    assert made == [True, False, False, False]


def _fit_in_child(queue):
    X, y = make_data(AHEAD_MIN_ROWS, 3, sine_plus_linear)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = BackpropRegressor((8,), max_iter=3, random_state=0).fit(X, y)
    queue.put(model.coefs_[0].tolist())


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork"
)
def test_a_forked_child_draws_ahead_with_its_own_helper():
    # The parent's helper thread does not exist in a forked child.
    X, y = make_data(AHEAD_MIN_ROWS, 3, sine_plus_linear)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = BackpropRegressor((8,), max_iter=3, random_state=0).fit(X, y)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_fit_in_child, args=(queue,))
    child.start()
    try:
        coefs = queue.get(timeout=60)
    finally:
        child.join(timeout=60)
    assert child.exitcode == 0
    assert_array_equal(np.array(coefs), model.coefs_[0])
