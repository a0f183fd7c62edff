"""fastbp._concurrency: shared holders together, an exclusive one alone."""

import threading
import time

import pytest

from fastbp import BackpropRegressor
from fastbp._concurrency import SharedExclusiveLock, lock_of


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


def test_each_estimator_has_its_own_lock_not_pickled_nor_cloned():
    import pickle

    from sklearn.base import clone

    model = BackpropRegressor((3,))
    assert lock_of(model) is lock_of(model)
    assert lock_of(clone(model)) is not lock_of(model)
    copy = pickle.loads(pickle.dumps(model))
    assert "_lock" not in copy.__dict__
    assert lock_of(copy) is not lock_of(model)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_callback_predicting_during_fit_does_not_deadlock():
    """The training thread may predict (as a scoring callback does)."""
    import numpy as np

    X = np.random.RandomState(0).normal(size=(50, 3))
    y = X[:, 0]
    seen = []

    class Scoring(BackpropRegressor):
        def _end_of_epoch(self, loss, validation):
            seen.append(self.predict(X[:2]).shape)
            return super()._end_of_epoch(loss, validation)

    Scoring((4,), max_iter=3, random_state=0).fit(X, y)
    assert seen == [(2,)] * 3
