"""fastbp._concurrency: shared holders together, an exclusive one alone."""

import threading
import time

import numpy as np
import pytest

from fastbp import BackpropRegressor
from fastbp._concurrency import SharedExclusiveLock, lock_of


def first_feature(X):
    return X[:, 0]


def test_shared_holders_overlap_and_exclusive_waits_for_them():
    lock, inside, log = SharedExclusiveLock(), threading.Barrier(3), []

    def reader():
        with lock.shared():
            inside.wait(timeout=10)  # all three hold it at once
            log.append("read")

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for thread in readers:
        thread.start()
    for thread in readers:
        thread.join(timeout=10)
    assert log == ["read"] * 3


def test_exclusive_holder_keeps_out_readers_and_other_writers():
    lock, log, holding = SharedExclusiveLock(), [], threading.Event()

    def writer():
        with lock.exclusive():
            holding.set()
            time.sleep(0.05)
            log.append("write done")

    def other(kind):
        holding.wait(timeout=10)
        with getattr(lock, kind)():
            log.append(kind)

    threads = [threading.Thread(target=writer)]
    threads += [
        threading.Thread(target=other, args=(k,)) for k in ("shared", "exclusive")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert log[0] == "write done" and sorted(log[1:]) == ["exclusive", "shared"]


def test_the_exclusive_holder_may_read_and_reenter():
    lock = SharedExclusiveLock()
    with lock.exclusive(), lock.shared(), lock.exclusive():
        pass
    with lock.shared():  # released: usable again
        pass


def test_each_estimator_has_its_own_lock_not_pickled_nor_cloned(estimator):
    import pickle

    from sklearn.base import clone

    model = estimator.cls((3,))
    assert lock_of(model) is lock_of(model)
    assert lock_of(clone(model)) is not lock_of(model)
    copy = pickle.loads(pickle.dumps(model))
    assert "_lock" not in copy.__dict__
    assert lock_of(copy) is not lock_of(model)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_callback_predicting_during_fit_does_not_deadlock(estimator, monkeypatch):
    """The training thread may predict (as a scoring callback does)."""
    import fastbp._stochastic

    X, y = estimator.make_data(50, 3, first_feature, inputs="normal")
    seen = []
    end_of_epoch = fastbp._stochastic.end_of_epoch

    def scoring(model, loss, validation, checkpoint):
        seen.append(model.predict(X[:2]).shape)
        return end_of_epoch(model, loss, validation, checkpoint)

    monkeypatch.setattr(fastbp._stochastic, "end_of_epoch", scoring)
    estimator.cls((4,), max_iter=3, random_state=0).fit(X, y)
    assert seen == [(2,)] * 3


def _predict_in_child(model, X, queue):
    queue.put(model.predict(X))


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_child_forked_while_another_thread_trains_can_use_the_estimator(estimator):
    """Forked while a thread of the parent holds the estimator's lock, the
    child (where that thread does not exist) predicts without waiting."""
    import multiprocessing

    X, y = estimator.make_data(50, 3, first_feature, inputs="normal")
    model = estimator.cls((4,), max_iter=2, random_state=0).fit(X, y)
    expected = model.predict(X)
    holding, release = threading.Event(), threading.Event()

    def trainer():  # stands for a fit running in another thread
        with lock_of(model).exclusive():
            holding.set()
            release.wait(timeout=60)

    thread = threading.Thread(target=trainer)
    thread.start()
    holding.wait(timeout=10)
    try:
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_predict_in_child, args=(model, X, queue))
        child.start()
        result = queue.get(timeout=60)
        child.join(timeout=60)
    finally:
        release.set()
        thread.join(timeout=60)
    assert child.exitcode == 0
    np.testing.assert_array_equal(result, expected)


def test_a_waiting_writer_is_not_held_off_by_a_stream_of_readers():
    """Readers keep coming, one always inside: a writer that asks still gets
    in, because new readers wait behind it."""
    lock, stop, wrote = SharedExclusiveLock(), threading.Event(), threading.Event()

    def reader():
        while not stop.is_set():
            with lock.shared():
                time.sleep(0.002)

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in readers:
        thread.start()
    time.sleep(0.02)

    def writer():
        with lock.exclusive():
            wrote.set()

    threading.Thread(target=writer).start()
    got_in = wrote.wait(timeout=10)
    stop.set()
    for thread in readers:
        thread.join(timeout=10)
    assert got_in


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_a_forking_holder_keeps_its_hold_in_the_child():
    """Forked inside its exclusive hold, the thread still holds it in the
    child, and releasing it there leaves the lock usable."""
    import os

    lock = lock_of(BackpropRegressor((3,)))
    with lock.exclusive():
        pid = os.fork()
        if pid == 0:  # the child: check, then leave without running pytest
            ok = lock._owner == threading.get_ident() and lock._depth == 1
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert lock._owner is None and lock._depth == 0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_copies_taken_while_another_thread_fits_are_whole(estimator):
    """deepcopy (like pickle and joblib) waits for a fit running in another
    thread: every copy's weights match its number of features."""
    import copy

    rng = np.random.RandomState(0)
    X3, X9 = rng.normal(size=(200, 3)), rng.normal(size=(200, 9))
    y3, y9 = estimator.targets(X3[:, 0]), estimator.targets(X9[:, 0])
    model = estimator.cls((8,), max_iter=3, random_state=0).fit(X3, y3)
    stop = threading.Event()

    def refit():
        for i in range(30):
            X, y = (X9, y9) if i % 2 else (X3, y3)
            model.fit(X, y)
        stop.set()

    thread = threading.Thread(target=refit)
    thread.start()
    copies = []
    while not stop.is_set():
        copies.append(copy.deepcopy(model))
    thread.join(timeout=60)
    for twin in copies:
        assert twin.coefs_[0].shape[0] == twin.n_features_in_
        twin.predict(np.zeros((2, twin.n_features_in_)))
