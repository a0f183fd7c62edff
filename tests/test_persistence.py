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
from conftest import assert_same_weights, make_data
from numpy.testing import assert_array_equal
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SAVE = {
    "pickle": lambda model, path: path.write_bytes(pickle.dumps(model)),
    "joblib": joblib.dump,
    "skops": skops.io.dump,
}
LOAD = {
    "pickle": lambda path, trusted: pickle.loads(path.read_bytes()),
    "joblib": lambda path, trusted: joblib.load(path),
    # The types a skops file of a fastbp model asks to trust: fastbp's only.
    "skops": lambda path, trusted: skops.io.load(path, trusted=trusted),
}


def sine_and_product(X):
    return np.column_stack([np.sin(2 * X[:, 0]), X[:, 1] * X[:, 2]])


def data(estimator, dtype=np.float64):
    X, Y = make_data(120, 4, sine_and_product)
    return X.astype(dtype), estimator.targets(Y.astype(dtype))


def fitted_model(estimator, dtype=np.float64):
    model = estimator.cls((6,), max_iter=3, random_state=0)
    return model.fit(*data(estimator, dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("form", sorted(SAVE))
def test_round_trip_keeps_predictions_dtype_and_training(
    estimator, form, dtype, tmp_path
):
    X, y = data(estimator, dtype)
    model = fitted_model(estimator, dtype)
    SAVE[form](model, tmp_path / "model")
    loaded = LOAD[form](tmp_path / "model", estimator.trusted_types)
    for method in dict.fromkeys(["predict", estimator.outputs]):
        assert_array_equal(getattr(loaded, method)(X), getattr(model, method)(X))
    assert getattr(loaded, estimator.outputs)(X).dtype == dtype
    # The weights are views into one flat buffer again.
    assert all(a.base is loaded._params for a in loaded.coefs_ + loaded.intercepts_)
    # Training continues from the saved optimizer state.
    model.partial_fit(X, y)
    loaded.partial_fit(X, y)
    assert loaded.t_ == model.t_
    assert_same_weights(loaded, model)


@pytest.mark.parametrize("form", sorted(SAVE))
def test_saving_leaves_the_live_estimator_intact(estimator, form, tmp_path):
    model = fitted_model(estimator)
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


def test_pickle_holds_arrays_and_parameters_but_no_numba_object(estimator):
    unpickler = RecordingUnpickler(pickle.dumps(fitted_model(estimator)))
    unpickler.load()
    modules = {module.split(".")[0] for module, _ in unpickler.globals}
    module, name = estimator.trusted_types[0].rsplit(".", 1)
    assert (module, name) in unpickler.globals
    assert modules <= {"fastbp", "numpy", "builtins", "copyreg", "_codecs"}


def test_pickle_and_joblib_files_load_in_a_fresh_process(estimator, tmp_path):
    """A new process, which has compiled nothing, loads each file and
    predicts the same values."""
    X, _ = data(estimator)
    model = fitted_model(estimator)
    np.save(tmp_path / "X.npy", X)
    for form in ("pickle", "joblib"):
        SAVE[form](model, tmp_path / form)
    code = (
        "import pickle, sys, joblib, numpy as np\n"
        "folder, method = sys.argv[1:]\n"
        "X = np.load(folder + '/X.npy')\n"
        "with open(folder + '/pickle', 'rb') as file:\n"
        "    model = pickle.load(file)\n"
        "np.save(folder + '/pickle.npy', getattr(model, method)(X))\n"
        "model = joblib.load(folder + '/joblib')\n"
        "np.save(folder + '/joblib.npy', getattr(model, method)(X))\n"
    )
    for method in dict.fromkeys(["predict", estimator.outputs]):
        subprocess.run([sys.executable, "-c", code, str(tmp_path), method], check=True)
        for form in ("pickle", "joblib"):
            expected = getattr(model, method)(X)
            assert_array_equal(np.load(tmp_path / f"{form}.npy"), expected)


def fitted_pipeline(estimator):
    model = estimator.cls((6,), max_iter=3, random_state=0)
    return make_pipeline(StandardScaler(), model).fit(*data(estimator))


@pytest.mark.parametrize("make", [fitted_model, fitted_pipeline])
def test_skops_file_asks_to_trust_fastbp_types_only(estimator, make, tmp_path):
    model = make(estimator)
    skops.io.dump(model, tmp_path / "model.skops")
    untrusted = skops.io.get_untrusted_types(file=tmp_path / "model.skops")
    assert untrusted == estimator.trusted_types
    with pytest.raises(skops.io.exceptions.UntrustedTypesFoundException):
        skops.io.load(tmp_path / "model.skops")
    loaded = skops.io.load(tmp_path / "model.skops", trusted=estimator.trusted_types)
    X, _ = data(estimator)
    for method in dict.fromkeys(["predict", estimator.outputs]):
        assert_array_equal(getattr(loaded, method)(X), getattr(model, method)(X))


def test_skops_refuses_a_file_carrying_another_type(estimator, tmp_path):
    """A file that claims to be a fastbp model but carries os.system."""
    model = fitted_model(estimator)
    model.hook_ = os.system
    skops.io.dump(model, tmp_path / "model.skops")
    with pytest.raises(
        skops.io.exceptions.UntrustedTypesFoundException, match=r"\.system"
    ):
        skops.io.load(tmp_path / "model.skops", trusted=estimator.trusted_types)


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


def test_unpickled_model_computes_in_the_dtype_it_was_trained_in(estimator):
    """Weights assigned in float64 to a float32 network are used in float32
    by the live model; the unpickled one does the same."""
    X, y = estimator.make_data(40, 3, lambda X: X[:, 0], inputs="normal")
    X = X.astype(np.float32)
    model = estimator.cls((4,), max_iter=2, warm_start=True, random_state=0)
    model.fit(X, y)
    model.coefs_ = [c.astype(np.float64) * 1.1 for c in model.coefs_]
    model.intercepts_ = [b.astype(np.float64) for b in model.intercepts_]
    live = getattr(model, estimator.outputs)(X)
    loaded = getattr(pickle.loads(pickle.dumps(model)), estimator.outputs)(X)
    assert live.dtype == loaded.dtype == np.float32
    assert_array_equal(live, loaded)
