"""Saving and loading models: pickle, joblib, and skops' safe format.

A saved model holds parameters and arrays only (no compiled Numba code): a
new process loads it and predicts the same values, and a loaded model keeps
training where the saved one stopped. skops loads without running code from
the file, trusting only the types named, which for a fastbp model are
fastbp's own.
"""

import io
import os
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
import skops.io
from numpy.testing import assert_array_equal
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastbp import BackpropRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# The types a skops file of a fastbp model asks to trust: fastbp's only.
FASTBP_TYPES = ["fastbp._regressor.BackpropRegressor"]

SAVE = {
    "pickle": lambda model, path: path.write_bytes(pickle.dumps(model)),
    "joblib": joblib.dump,
    "skops": skops.io.dump,
}
LOAD = {
    "pickle": lambda path: pickle.loads(path.read_bytes()),
    "joblib": joblib.load,
    "skops": lambda path: skops.io.load(path, trusted=FASTBP_TYPES),
}


def make_data(n_samples=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n_samples, 4))
    Y = np.column_stack([np.sin(2 * X[:, 0]), X[:, 1] * X[:, 2]])
    return X, Y


def fitted_model(dtype=np.float64):
    X, Y = make_data()
    model = BackpropRegressor((6,), max_iter=3, random_state=0)
    return model.fit(X.astype(dtype), Y.astype(dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("form", sorted(SAVE))
def test_round_trip_keeps_predictions_dtype_and_training(form, dtype, tmp_path):
    X, Y = (a.astype(dtype) for a in make_data())
    model = fitted_model(dtype)
    SAVE[form](model, tmp_path / "model")
    loaded = LOAD[form](tmp_path / "model")
    assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.predict(X).dtype == dtype
    # The weights are views into one flat buffer again.
    assert all(a.base is loaded._params for a in loaded.coefs_ + loaded.intercepts_)
    # Training continues from the saved optimizer state.
    model.partial_fit(X, Y)
    loaded.partial_fit(X, Y)
    assert loaded.t_ == model.t_
    for a, b in zip(
        loaded.coefs_ + loaded.intercepts_, model.coefs_ + model.intercepts_
    ):
        assert_array_equal(a, b)


@pytest.mark.parametrize("form", sorted(SAVE))
def test_saving_leaves_the_live_estimator_intact(form, tmp_path):
    model = fitted_model()
    params = model._params
    SAVE[form](model, tmp_path / "model")
    assert model._params is params
    assert model.coefs_[0].base is params


class RecordingUnpickler(pickle.Unpickler):
    """Loads a pickle, noting every global (module, name) it imports."""

    def __init__(self, data):
        super().__init__(io.BytesIO(data))
        self.globals = set()

    def find_class(self, module, name):
        self.globals.add((module, name))
        return super().find_class(module, name)


def test_pickle_holds_arrays_and_parameters_but_no_numba_object():
    unpickler = RecordingUnpickler(pickle.dumps(fitted_model()))
    unpickler.load()
    modules = {module.split(".")[0] for module, _ in unpickler.globals}
    assert ("fastbp._regressor", "BackpropRegressor") in unpickler.globals
    assert modules <= {"fastbp", "numpy", "builtins", "copyreg", "_codecs"}


def test_pickle_and_joblib_files_load_in_a_fresh_process(tmp_path):
    """A new process, which has compiled nothing, loads each file and
    predicts the same values."""
    X, _ = make_data()
    model = fitted_model()
    np.save(tmp_path / "X.npy", X)
    for form in ("pickle", "joblib"):
        SAVE[form](model, tmp_path / form)
    code = (
        "import pickle, sys, joblib, numpy as np\n"
        "folder = sys.argv[1]\n"
        "X = np.load(folder + '/X.npy')\n"
        "with open(folder + '/pickle', 'rb') as file:\n"
        "    np.save(folder + '/pickle.npy', pickle.load(file).predict(X))\n"
        "np.save(folder + '/joblib.npy', joblib.load(folder + '/joblib').predict(X))\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)
    for form in ("pickle", "joblib"):
        assert_array_equal(np.load(tmp_path / f"{form}.npy"), model.predict(X))


def fitted_pipeline():
    X, Y = make_data()
    model = BackpropRegressor((6,), max_iter=3, random_state=0)
    return make_pipeline(StandardScaler(), model).fit(X, Y)


@pytest.mark.parametrize("make", [fitted_model, fitted_pipeline])
def test_skops_file_asks_to_trust_fastbp_types_only(make, tmp_path):
    model = make()
    skops.io.dump(model, tmp_path / "model.skops")
    assert skops.io.get_untrusted_types(file=tmp_path / "model.skops") == FASTBP_TYPES
    with pytest.raises(skops.io.exceptions.UntrustedTypesFoundException):
        skops.io.load(tmp_path / "model.skops")
    loaded = skops.io.load(tmp_path / "model.skops", trusted=FASTBP_TYPES)
    X, _ = make_data()
    assert_array_equal(loaded.predict(X), model.predict(X))


def test_skops_refuses_a_file_carrying_another_type(tmp_path):
    """A file that claims to be a fastbp model but carries os.system."""
    model = fitted_model()
    model.hook_ = os.system
    skops.io.dump(model, tmp_path / "model.skops")
    with pytest.raises(
        skops.io.exceptions.UntrustedTypesFoundException, match=r"\.system"
    ):
        skops.io.load(tmp_path / "model.skops", trusted=FASTBP_TYPES)


class RunsCodeWhenUnpickled:
    """What a stranger's pickle can do: call any function at load time."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))  # any callable, any arguments


def test_loading_a_pickle_runs_the_code_it_names(tmp_path):
    target = tmp_path / "written_by_loading"
    data = pickle.dumps(RunsCodeWhenUnpickled(str(target)))
    assert not target.exists()
    pickle.loads(data).close()
    assert target.exists()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_unpickled_model_computes_in_the_dtype_it_was_trained_in():
    """Weights assigned in float64 to a float32 network are used in float32
    by the live model; the unpickled one does the same."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    model = BackpropRegressor((4,), max_iter=2, warm_start=True, random_state=0)
    model.fit(X, X[:, 0])
    model.coefs_ = [c.astype(np.float64) * 1.1 for c in model.coefs_]
    model.intercepts_ = [b.astype(np.float64) for b in model.intercepts_]
    live = model.predict(X)
    loaded = pickle.loads(pickle.dumps(model)).predict(X)
    assert live.dtype == loaded.dtype == np.float32
    np.testing.assert_array_equal(live, loaded)
