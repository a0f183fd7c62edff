"""Faults around a fit: divergence, SIGINT, threads, forked and spawned worker
processes, and installations where Numba's cache cannot be written.

The base handles faults for both estimators: the tests run for each (the
``estimator`` fixture), except the cache's, which concern the package."""

import _thread
import json
import multiprocessing
import os
import pickle
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    ESTIMATORS,
    assert_same_weights,
    blas_threads,
    make_data,
    weights,
)
from joblib import Parallel, delayed
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

import fastbp
from fastbp import BackpropRegressor
from fastbp._concurrency import lock_of
from fastbp._jit import NO_CACHE_MESSAGE

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def half_product(X):
    """``sin(x0) + x1 x2 / 2``, this file's target (of normal X)."""
    return np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]


# ------------------------------------------------------------- divergence


# How far from scaled X must be, and what else a fit needs, for SGD steps to
# overflow the weights. A log loss does not grow with the inputs as a squared
# error does: the classifier's weights overflow only for inputs far from
# scaled, and only if training does not stop for want of improvement first.
DIVERGING = {
    "regressor": (1.0, {}),
    "classifier": (1e10, dict(tol=0.0, n_iter_no_change=np.inf)),
}


def diverging(estimator, dtype=np.float64):
    """X, y and SGD parameters whose fit overflows the weights after some
    finite epochs."""
    scale, options = DIVERGING[estimator.name]
    X = np.random.RandomState(0).normal(size=(200, 3)).astype(dtype)
    y = (X @ np.array([1.0, 2.0, 3.0]) * 100).astype(dtype)
    params = dict(
        hidden_layer_sizes=(10,),
        solver="sgd",
        learning_rate_init=0.05,
        random_state=0,
        **options,
    )
    return X * dtype(scale), estimator.targets(y), params


def test_divergence_keeps_last_finite_epoch(estimator):
    """A non-finite loss stops training with a ValueError that says what to do;
    the weights are those of the last finite epoch."""
    X, y, params = diverging(estimator)
    params["max_iter"] = 50
    model = estimator.cls(**params)
    with pytest.raises(ValueError, match="diverged.*Scale the data.*learning_rate"):
        model.fit(X, y)
    assert 0 < model.n_iter_ < 50
    assert len(model.loss_curve_) == model.n_iter_
    assert np.isfinite(model.loss_curve_).all()
    assert all(np.isfinite(a).all() for a in weights(model))
    replay = estimator.cls(**{**params, "max_iter": model.n_iter_}).fit(X, y)
    assert_same_weights(model, replay)


def test_divergence_with_early_stopping_warns_and_keeps_the_best_epoch(estimator):
    """With a validation split (as scikit-learn, its issue #29504) the epoch
    that diverged is recorded with a NaN validation score, and training
    stops with a ConvergenceWarning, keeping the weights of the best epoch:
    those of a fit that ends with that epoch."""
    X, y, params = diverging(estimator)
    params.update(max_iter=50, early_stopping=True)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        model = estimator.cls(**params).fit(X, y)
    scores = model.validation_scores_
    assert len(scores) == model.n_iter_ < 50
    assert np.isnan(scores[-1])
    best = int(np.nanargmax(scores))
    assert best < model.n_iter_ - 1  # not the epoch that diverged
    assert model.best_validation_score_ == scores[best]
    assert all(np.isfinite(a).all() for a in weights(model))
    replay = estimator.cls(**{**params, "max_iter": best + 1}).fit(X, y)
    assert replay.validation_scores_ == scores[: best + 1]
    assert_same_weights(model, replay)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_divergence_in_partial_fit_keeps_the_weights_before_the_call(estimator, dtype):
    """The partial_fit call whose epoch diverges raises and leaves the
    weights, the optimizer state and the history as they were before it."""
    X, y, params = diverging(estimator, dtype)
    model = estimator.cls(**params)
    model.partial_fit(X, y, **estimator.partial_fit_params(y))
    for _ in range(50):
        before = pickle.loads(pickle.dumps(model))  # a copy of the whole state
        try:
            model.partial_fit(X, y)
        except ValueError as error:
            assert "diverged" in str(error)
            break
    else:
        pytest.fail("training did not diverge")
    assert 0 < len(model.loss_curve_) < 50
    assert np.isfinite(model.loss_curve_).all()
    assert all(np.isfinite(a).all() and a.dtype == dtype for a in weights(model))
    assert_same_weights(model, before)
    assert model.loss_curve_ == before.loss_curve_
    assert_array_equal(model._optimizer_state, before._optimizer_state)
    assert model._optimizer_step == before._optimizer_step


# Data whose first L-BFGS loss overflows: the regressor's targets scaled up;
# labels cannot be, so the classifier's inputs.
OVERFLOWING = {
    "regressor": lambda X, y: (X, y * 1e160),
    "classifier": lambda X, y: (X * 1e160, y),
}


def test_lbfgs_divergence_keeps_the_last_finite_iterate(estimator):
    """When the first loss of L-BFGS overflows, the starting weights stay."""
    X, y = estimator.make_data(300, 6, half_product, inputs="normal")
    start = estimator.cls((5,), max_iter=1, random_state=0).fit(X, y)
    model = estimator.cls((5,), solver="lbfgs", warm_start=True)
    model.coefs_ = [c.copy() for c in start.coefs_]
    model.intercepts_ = [b.copy() for b in start.intercepts_]
    with pytest.raises(ValueError, match="diverged.*last finite iterate"):
        model.fit(*OVERFLOWING[estimator.name](X, y))
    assert_same_weights(model, start)


# ------------------------------------------------------------------ SIGINT


def send_sigint():
    os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize(
    "solver, interrupt",
    [
        ("adam", send_sigint),
        ("sgd", send_sigint),
        ("lbfgs", send_sigint),
        ("adam", _thread.interrupt_main),  # what SIGINT does, without a signal
    ],
    ids=["adam", "sgd", "lbfgs", "adam-interrupt_main"],
)
def test_sigint_keeps_the_last_finished_epoch(estimator, solver, interrupt):
    """A real SIGINT sent to the process during fit: a warning, the estimator
    returned, and the weights of the last finished epoch (iteration for
    L-BFGS), which a fit with that many epochs reproduces bit for bit."""
    X, y = estimator.make_data(2000, 8, half_product, inputs="normal")
    params = dict(
        hidden_layer_sizes=(64, 64),
        solver=solver,
        random_state=0,
        max_iter=100000,
        max_fun=10**9,
        tol=0.0,
        n_iter_no_change=np.inf,
    )
    estimator.cls(**{**params, "max_iter": 1}).fit(X, y)  # compile first
    fitting = threading.Event()

    def interrupt_while_fitting(signum, frame):
        if fitting.is_set():  # a late signal must not hit the test itself
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt_while_fitting)
    timer = threading.Timer(0.2, interrupt)  # well before L-BFGS converges (~0.5 s)
    model = estimator.cls(**params)
    try:
        fitting.set()
        timer.start()
        with pytest.warns(UserWarning, match="interrupted"):
            returned = model.fit(X, y)
    finally:
        fitting.clear()
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert returned is model
    assert 0 < model.n_iter_ < 100000
    assert len(model.loss_curve_) == model.n_iter_
    assert np.isfinite(model.loss_)
    replay = estimator.cls(**{**params, "max_iter": model.n_iter_}).fit(X, y)
    assert_same_weights(model, replay)


# ----------------------------------------------------------------- threads

CONFIGS = [
    dict(hidden_layer_sizes=(16,)),
    dict(hidden_layer_sizes=(8, 8), solver="sgd", activation="tanh"),
    dict(hidden_layer_sizes=(12,), solver="lbfgs", loss="huber"),
    dict(hidden_layer_sizes=(300,), activation="elu"),  # BLAS keeps its threads
]


def fit_digest(task):
    """Train one of CONFIGS (estimator, index, seed, dtype) and return its
    weights' bytes."""
    name, index, seed, dtype = task
    estimator = ESTIMATORS[name]
    X, y = make_data(300, 6, half_product, inputs="normal", seed=seed)
    config = dict(CONFIGS[index])
    if name == "classifier":
        config.pop("loss", None)  # a classifier's loss is the log loss
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = estimator.cls(**config, max_iter=5, random_state=seed)
        model.fit(X.astype(dtype), estimator.targets(y.astype(dtype)))
    return b"".join(a.tobytes() for a in weights(model))


# Each estimator's eight fits, interleaved.
TASKS = [
    (name, i % len(CONFIGS), i, np.float32 if i % 3 else np.float64)
    for i in range(8)
    for name in sorted(ESTIMATORS)
]


def test_concurrent_fits_equal_serial_fits():
    """Sixteen fits of different estimators, regressors and classifiers, in
    four threads give the weights of the same fits run one after the other,
    and leave BLAS's threads as they were."""
    before = blas_threads()
    serial = [fit_digest(task) for task in TASKS]
    with ThreadPoolExecutor(4) as pool:
        concurrent = list(pool.map(fit_digest, TASKS))
    assert concurrent == serial
    assert blas_threads() == before


@pytest.mark.parametrize("unpickled", [False, True])
def test_concurrent_predicts_on_one_estimator(estimator, unpickled):
    """Four threads predicting with one estimator (also one just unpickled,
    whose weight buffer is rebuilt by the first predict) get the serial
    results, whatever the input's size, dtype or form."""
    X, y = estimator.make_data(300, 6, half_product, inputs="normal")
    model = estimator.cls((32, 16), max_iter=3, random_state=0).fit(X, y)
    rng = np.random.RandomState(1)
    inputs = [rng.normal(size=(n, 6)) for n in (1, 7, 300, 5000)]
    inputs += [inputs[2].astype(np.float32), inputs[1].tolist()]
    expected = [model.predict(x) for x in inputs]
    if unpickled:
        model = pickle.loads(pickle.dumps(model))
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(model.predict, inputs * 8))
    for i, result in enumerate(results):
        assert_array_equal(result, expected[i % len(inputs)])


def test_threads_sharing_one_estimator_take_turns(estimator):
    """fit and partial_fit on the same estimator from several threads run one
    after the other (no crash when the shapes differ, no mixed-up history);
    a predict waits for a running fit and sees its result."""
    X, y = estimator.make_data(300, 6, half_product, inputs="normal")
    errors = []

    def partial_fit(n_features):
        try:
            model.partial_fit(X[:, :n_features], y, **estimator.partial_fit_params(y))
        except ValueError as error:  # the second shape is refused, cleanly
            errors.append(error)

    for _ in range(5):
        model = estimator.cls((16,), random_state=0)
        threads = [threading.Thread(target=partial_fit, args=(n,)) for n in (4, 5)]
        errors.clear()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(errors) == 1 and "features" in str(errors[0])
        assert model.n_iter_ == len(model.loss_curve_) == 1

    model = estimator.cls((64, 64), max_iter=30, tol=0, random_state=0)
    with ThreadPoolExecutor(3) as pool:
        fits = [pool.submit(model.fit, X, y) for _ in range(3)]
        for fit in fits:
            fit.result()
    reference = estimator.cls((64, 64), max_iter=30, tol=0, random_state=0)
    reference.fit(X, y)
    assert model.n_iter_ == 30 and len(model.loss_curve_) == 30
    assert_same_weights(model, reference)

    model = estimator.cls((64, 64), max_iter=1, random_state=0).fit(X, y)
    lock = lock_of(model)
    with ThreadPoolExecutor(2) as pool:
        fit = pool.submit(model.set_params(max_iter=40, tol=0).fit, X, y)
        while lock._owner is None and not fit.done():  # until the fit holds it
            time.sleep(1e-4)
        predictions = [pool.submit(model.predict, X) for _ in range(3)]
        fit.result()
        after = [prediction.result() for prediction in predictions]
    for prediction in after:  # each waited for the fit
        assert_array_equal(prediction, model.predict(X))


# --------------------------------------------------------------- processes


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_forked_workers_after_use_equal_serial():
    """Worker processes forked after the parent compiled and trained
    (multiprocessing's 'fork') train the same weights as the parent."""
    serial = [fit_digest(task) for task in TASKS[:8]]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert pool.map(fit_digest, TASKS[:8]) == serial


def test_joblib_loky_workers_after_use_equal_serial():
    """joblib's process workers (loky), started after the parent trained,
    train the same weights as the parent."""
    from joblib.externals.loky import get_reusable_executor

    serial = [fit_digest(task) for task in TASKS[:8]]
    try:
        parallel = Parallel(n_jobs=2, backend="loky")(
            delayed(fit_digest)(task) for task in TASKS[:8]
        )
    finally:
        get_reusable_executor().shutdown(wait=True)
    assert parallel == serial


# ------------------------------------------------------- read-only caches

_CHILD = """
import json, sys, warnings
import numpy as np
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import fastbp
    X = np.load(sys.argv[1])
    model = fastbp.BackpropRegressor((5,), max_iter=3, random_state=0)
    model.fit(X, X[:, 0] - X[:, 1])
print(json.dumps({
    "file": fastbp.__file__,
    "predictions": model.predict(X).tolist(),
    "warnings": [str(w.message) for w in caught if "fastbp" in str(w.message)],
}))
"""


def unwritable(path):
    """A path nothing can create, not even root: its parent is a regular file."""
    path.parent.write_text("")
    return path


def test_import_and_fit_without_a_writable_cache(tmp_path):
    """With the package's __pycache__, NUMBA_CACHE_DIR and the home
    directory's cache all unwritable, fastbp still imports and fits (it
    compiles in the process) and warns once; the results are the usual ones.

    The package is a copy with Python's cache off, so that nothing else
    creates its __pycache__. Tests may run as root, whom permissions do not
    stop, so every place Numba could cache in is made impossible to create
    instead: the package's ``__pycache__`` and the home directory's
    ``.cache`` are regular files, and NUMBA_CACHE_DIR lies below the latter.
    The copies are also made read-only, which is what stops other users.
    Without a cache the child must compile everything; it does so without
    LLVM optimisation (NUMBA_OPT=0), which takes half the time and changes
    results only by rounding.
    """
    site, home = tmp_path / "site", tmp_path / "home"
    package = site / "fastbp"
    shutil.copytree(
        Path(fastbp.__file__).parent,
        package,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    home.mkdir()
    unwritable(package / "__pycache__" / "x")
    numba_cache = unwritable(home / ".cache" / "numba")
    X = make_data(40, 3, half_product, inputs="normal")[0]
    np.save(tmp_path / "X.npy", X)
    for path in (site, home):
        for entry in [path, *path.rglob("*")]:
            entry.chmod(entry.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP))
    listing = sorted(map(str, site.rglob("*"))) + sorted(map(str, home.rglob("*")))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("XDG_CACHE_HOME", "PYTHONPATH")
    }
    env.update(
        HOME=str(home),
        NUMBA_CACHE_DIR=str(numba_cache),
        NUMBA_OPT="0",
        PYTHONPATH=str(site),
        PYTHONDONTWRITEBYTECODE="1",
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(tmp_path / "X.npy")],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
    finally:
        for path in (site, home):
            for entry in [path, *path.rglob("*")]:
                entry.chmod(entry.stat().st_mode | stat.S_IWUSR)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["file"] == str(package / "__init__.py")
    assert result["warnings"] == [NO_CACHE_MESSAGE]
    after = sorted(map(str, site.rglob("*"))) + sorted(map(str, home.rglob("*")))
    assert after == listing  # nothing was written
    model = BackpropRegressor((5,), max_iter=3, random_state=0)
    model.fit(X, X[:, 0] - X[:, 1])
    assert_allclose(result["predictions"], model.predict(X), rtol=1e-10)


@pytest.mark.parametrize("before_save", [True, False])
def test_lbfgs_interrupted_between_its_records_keeps_a_consistent_history(
    monkeypatch, estimator, before_save
):
    """Ctrl-C inside L-BFGS's per-iteration bookkeeping, after the 5th
    iteration's loss is recorded but before its iterate is saved (or just
    after): the history and the weights are those of the last saved
    iterate, as a fit of that many iterations gives them."""
    from fastbp import _checkpoint

    X, y = estimator.make_data(300, 5, half_product, inputs="normal")
    params = dict(hidden_layer_sizes=(7,), solver="lbfgs", random_state=0, tol=0.0,
                  max_iter=50)  # fmt: skip
    save = _checkpoint.Checkpoint.save_iterate

    def interrupted(self, x, count):
        if count == 5 and before_save:
            raise KeyboardInterrupt
        save(self, x, count)
        if count == 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(_checkpoint.Checkpoint, "save_iterate", interrupted)
    with pytest.warns(UserWarning, match="interrupted"):
        model = estimator.cls(**params).fit(X, y)
    monkeypatch.setattr(_checkpoint.Checkpoint, "save_iterate", save)
    kept = 4 if before_save else 5
    assert model.n_iter_ == len(model.loss_curve_) == kept
    replay = estimator.cls(**{**params, "max_iter": kept}).fit(X, y)
    assert_same_weights(model, replay)
    assert model.loss_curve_ == replay.loss_curve_


@pytest.mark.parametrize("where", ["while recording", "while saving"])
def test_epoch_interrupted_in_its_bookkeeping_keeps_a_consistent_history(
    monkeypatch, estimator, where
):
    """Ctrl-C after the 3rd epoch's kernel returned: halfway through
    recording it (the epoch is dropped), or while the checkpoint saves it
    (recorded: kept). History and weights are those of a fit of as many
    epochs."""
    from fastbp import _checkpoint, _stochastic

    X, y = estimator.make_data(300, 5, half_product, inputs="normal")
    params = dict(hidden_layer_sizes=(7,), random_state=0, tol=0.0, max_iter=20)
    count, save = _stochastic._count_epoch, _checkpoint.Checkpoint.save

    def recording(model, loss, n_samples):
        if model.n_iter_ == 2:
            model.n_iter_ += 1  # part of the record, then the interruption
            raise KeyboardInterrupt
        count(model, loss, n_samples)

    def saving(self, params=None):
        save(self, params)
        if estimator_model[0].n_iter_ == 3:
            raise KeyboardInterrupt

    model = estimator.cls(**params)
    estimator_model = [model]
    if where == "while recording":
        monkeypatch.setattr(_stochastic, "_count_epoch", recording)
    else:
        monkeypatch.setattr(_checkpoint.Checkpoint, "save", saving)
    with pytest.warns(UserWarning, match="interrupted"):
        model.fit(X, y)
    monkeypatch.undo()
    kept = 2 if where == "while recording" else 3
    assert model.n_iter_ == len(model.loss_curve_) == kept
    replay = estimator.cls(**{**params, "max_iter": kept}).fit(X, y)
    assert_same_weights(model, replay)
    assert model.loss_curve_ == replay.loss_curve_ and model.t_ == replay.t_
