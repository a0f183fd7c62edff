"""Threads: the BLAS thread policy of training, and fits running concurrently."""

import multiprocessing
import os
import threading

import numpy as np
import pytest
from conftest import assert_same_weights, blas_threads
from joblib import Parallel, delayed

from fastbp._threads import one_blas_thread

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


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


# ------------------------------------------------- threads of fastbp's products

WIDE = dict(hidden_layer_sizes=(300, 300), max_iter=2, random_state=0)


def _recorded_threads(monkeypatch, fit):
    """The thread counts that ``fit()`` passed to the epoch kernel."""
    import fastbp._stochastic

    calls = []
    run_epoch = fastbp._stochastic.run_epoch

    def recording(*args):
        threads, (_, rank, ranks) = args[-2:]
        if rank == 0:  # the fit's own thread (a team's others call it too)
            calls.append(max(threads, ranks))
        return run_epoch(*args)

    monkeypatch.setattr(fastbp._stochastic, "run_epoch", recording)
    fit()
    return calls


def _wide_fit(estimator, **options):
    X, y = estimator.make_data(400, 6, lambda X: np.sin(X[:, 0]), inputs="normal")
    return lambda: estimator.cls(**{**WIDE, **options}).fit(X, y)


@pytest.fixture
def two_threads():
    """Skip where fastbp cannot split (one core, BLAS path, no safe layer)."""
    import numba

    from fastbp import _gemm
    from fastbp._threads import threading_layer

    if not _gemm.SIMD or threading_layer() is None or numba.get_num_threads() < 2:
        pytest.skip("no second thread for fastbp's products here")
    if min(blas_threads().values()) < 2:
        pytest.skip("BLAS runs one thread in this process")


def test_a_wide_fit_splits_its_products_and_a_small_one_does_not(
    monkeypatch, estimator, two_threads
):
    import numba

    wide = _recorded_threads(monkeypatch, _wide_fit(estimator))
    assert wide == [min(numba.get_num_threads(), *blas_threads().values())] * 2
    small = _recorded_threads(
        monkeypatch, _wide_fit(estimator, hidden_layer_sizes=(16, 16))
    )
    assert small == [1, 1]


def test_threadpoolctl_and_numba_limits_are_respected(monkeypatch, estimator, two_threads):
    """A limit set with threadpoolctl (as joblib's and Dask's workers do
    through the environment) or with numba.set_num_threads holds fastbp to
    one thread, with the same weights."""
    import numba
    from threadpoolctl import threadpool_limits

    fit = _wide_fit(estimator)
    with threadpool_limits(1, user_api="blas"):
        assert _recorded_threads(monkeypatch, fit) == [1, 1]
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        assert _recorded_threads(monkeypatch, fit) == [1, 1]
    finally:
        numba.set_num_threads(before)


def test_sibling_fits_run_one_thread_each(monkeypatch, estimator, two_threads):
    """While another fit runs in the process (joblib's threads, a Dask
    worker's threads), a fit keeps to one thread: no thread per core on top
    of its siblings."""
    from fastbp._threads import one_blas_thread

    with one_blas_thread():  # a sibling fit, holding the limit
        assert _recorded_threads(monkeypatch, _wide_fit(estimator)) == [1, 1]


def test_thread_counts_give_the_same_weights(estimator, two_threads):
    """Split or not, the same bits (fits in fresh processes with 1 and 2
    threads: tests/test_determinism.py)."""
    import numba

    fit = _wide_fit(estimator)
    split = fit()
    numba.set_num_threads(1)
    try:
        serial = fit()
    finally:
        numba.set_num_threads(2)
    assert_same_weights(split, serial)


_LAYER_SCRIPT = """
import numpy as np, numba, warnings
warnings.simplefilter("ignore")
from fastbp import BackpropRegressor
from fastbp._threads import threading_layer
X = np.random.RandomState(0).normal(size=(300, 6))
model = BackpropRegressor((300, 300), max_iter=2, random_state=0).fit(X, X[:, 0])
print(threading_layer(), numba.threading_layer(), model.coefs_[1].sum().hex())
"""


def test_without_a_thread_safe_layer_training_is_serial_with_the_same_results(tmp_path):
    """Numba's workqueue layer cannot be entered from several threads: with
    it (NUMBA_THREADING_LAYER=workqueue), fastbp trains serially, and gets
    the weights TBB's threads give."""
    import os
    import subprocess
    import sys

    results = {}
    for layer in ("workqueue", "default"):
        env = dict(os.environ, NUMBA_THREADING_LAYER=layer,
                   NUMBA_CACHE_DIR=str(tmp_path / layer))  # fmt: skip
        done = subprocess.run([sys.executable, "-c", _LAYER_SCRIPT], env=env,
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        results[layer] = done.stdout.split()
    assert results["workqueue"][:2] == ["None", "workqueue"]
    assert results["default"][0] in ("tbb", "omp")
    assert results["workqueue"][2] == results["default"][2]


def test_fits_go_on_when_the_environment_changes_numba_s_thread_count(monkeypatch):
    """Once its threads run, Numba refuses to compile while
    NUMBA_NUM_THREADS says another number (libraries such as Dask's
    LocalCluster write it into the process). fastbp's fits and predictions
    still compile their kernels (a read-only input is a new type for
    Numba), and the variable keeps the value it was given."""
    import numba

    from fastbp import BackpropRegressor
    from fastbp._threads import threading_layer

    threading_layer()  # the threads run
    other = str(numba.config.NUMBA_NUM_THREADS + 1)
    monkeypatch.setenv("NUMBA_NUM_THREADS", other)
    X = np.random.RandomState(0).normal(size=(50, 3)).astype(np.float32)
    X.setflags(write=False)
    y = X[:, 0].copy()
    y.setflags(write=False)
    model = BackpropRegressor((5,), max_iter=3).fit(X, y)
    assert model.predict(X).shape == (50,)
    assert os.environ["NUMBA_NUM_THREADS"] == other
