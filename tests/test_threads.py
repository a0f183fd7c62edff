"""Threads: the BLAS thread policy of training, and fits running concurrently."""

import multiprocessing
import threading

import numpy as np
import pytest
from conftest import assert_same_weights, blas_threads
from joblib import Parallel, delayed

from fastbp._threads import one_blas_thread


def test_training_uses_one_blas_thread_and_restores():
    before = blas_threads()
    with one_blas_thread():
        inside = blas_threads()
    assert inside and set(inside.values()) == {1}
    assert blas_threads() == before


@pytest.mark.parametrize("first_to_leave", ["first", "second"])
def test_overlapping_fits_restore_the_threads_of_before(first_to_leave):
    """Two fits overlap in two threads (as with joblib's threading backend):
    one BLAS thread while both train, still one for the fit that finishes
    last, and the threads of before once both have finished, whichever
    finishes first."""
    before = blas_threads()
    if set(before.values()) == {1}:
        pytest.skip("BLAS runs one thread here already: nothing to restore")
    both_in = threading.Barrier(2)
    leave = {"first": threading.Event(), "second": threading.Event()}
    seen = {}

    def fit(name, other):
        with one_blas_thread():
            both_in.wait()
            seen[name] = set(blas_threads().values())
            both_in.wait()
            if name != first_to_leave:
                leave[other].wait()
                seen["last alone"] = set(blas_threads().values())
        leave[name].set()

    threads = [
        threading.Thread(target=fit, args=("first", "second")),
        threading.Thread(target=fit, args=("second", "first")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"first": {1}, "second": {1}, "last alone": {1}}
    assert blas_threads() == before


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_two_models_trained_in_two_threads_equal_serial_training(estimator):
    """The kernels release the GIL and share no state: two fits running at the
    same time in two threads give the weights each gives alone."""
    X, y = estimator.make_data(
        600, 5, lambda X: np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]
    )
    models = [
        estimator.cls((32, 16), max_iter=15, tol=0, random_state=seed)
        for seed in (1, 2)
    ]
    serial = [estimator.cls(**model.get_params()).fit(X, y) for model in models]
    # As in a search under joblib's threading backend.
    Parallel(n_jobs=2, backend="threading")(delayed(m.fit)(X, y) for m in models)
    for model, reference in zip(models, serial):
        assert model.n_iter_ == reference.n_iter_ == 15
        assert_same_weights(model, reference)
    assert not np.array_equal(models[0].coefs_[0], models[1].coefs_[0])


def _threads_in_child(queue):
    queue.put(blas_threads())


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_a_child_forked_during_a_fit_gets_the_threads_back():
    """A process forked while a fit holds the one-thread limit has no fit
    running: it starts with the original number of threads."""
    before = blas_threads()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    with one_blas_thread():
        child = context.Process(target=_threads_in_child, args=(queue,))
        child.start()
        in_child = queue.get(timeout=60)
        child.join(timeout=60)
    assert child.exitcode == 0
    assert in_child == before
