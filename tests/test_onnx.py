"""ONNX export: onnxruntime's predictions are fastbp's."""

import subprocess
import sys
import warnings

import numpy as np
import onnxruntime
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from skl2onnx import to_onnx
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import fastbp.onnx  # noqa: F401  (registers the converters)
from fastbp import BackpropClassifier, BackpropRegressor

# float32: within 1e-5 of the outputs' scale; float64: 1e-12. (onnxruntime's
# products sum in another order than OpenBLAS's.)
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}
ACTIVATIONS = ["identity", "logistic", "tanh", "relu", "leaky_relu", "elu"]


def _run(onx, feeds):
    session = onnxruntime.InferenceSession(onx.SerializeToString())
    return session.run(None, feeds)


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _assert_close(got, expected, dtype):
    tol = TOLERANCE[dtype]
    assert got.dtype == dtype
    assert_allclose(got, expected, rtol=tol, atol=tol * np.abs(expected).max())


def _inputs(dtype, n=200, d=5, seed=0):
    return np.random.RandomState(seed).normal(size=(n, d)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hidden", [(), (7,), (9, 6, 4)])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("out_activation", ACTIVATIONS)
def test_regressor_every_activation_and_depth(dtype, hidden, activation, out_activation):
    X = _inputs(dtype)
    y = np.column_stack([np.tanh(X[:, 0]), X[:, 1] * X[:, 2]])
    model = _fit(BackpropRegressor(hidden, activation, out_activation=out_activation,
                                   max_iter=15, random_state=0), X, y)  # fmt: skip
    (got,) = _run(to_onnx(model, X[:1]), {"X": X})
    _assert_close(got, model.predict(X), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_poisson_exponential_output_and_one_output(dtype):
    X = _inputs(dtype)
    y = np.exp(0.5 * X[:, 0])
    model = _fit(BackpropRegressor((8,), loss="poisson", max_iter=20, random_state=0),
                 X, y)  # fmt: skip
    (got,) = _run(to_onnx(model, X[:1]), {"X": X})
    assert got.shape == (len(X), 1)
    _assert_close(got.ravel(), model.predict(X), dtype)


def _targets(kind, X):
    a, b = (X[:, 0] > 0).astype(int), (X[:, 1] > 0).astype(int)
    return {
        "binary": np.array(["no", "yes"])[a],
        "multiclass": np.array([7, -2, 30])[a + b],
        "booleans": a.astype(bool),
        "multilabel": np.column_stack([a, b, X[:, 2] > 0]).astype(int),
    }[kind]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "booleans", "multilabel"])
@pytest.mark.parametrize("hidden", [(), (8, 5)])
def test_classifier_labels_and_probabilities(dtype, kind, hidden):
    X = _inputs(dtype, seed=1)
    y = _targets(kind, X)
    model = _fit(BackpropClassifier(hidden, max_iter=30, random_state=0), X, y)
    labels, probabilities = _run(to_onnx(model, X[:1], options={"zipmap": False}),
                                 {"X": X})  # fmt: skip
    _assert_close(probabilities, model.predict_proba(X), dtype)
    expected = model.predict(X)
    assert labels.shape == expected.shape
    assert_array_equal(labels.astype(expected.dtype), expected)


def test_pipeline_on_a_data_frame_is_one_graph():
    rng = np.random.RandomState(2)
    frame = pd.DataFrame({"size": rng.uniform(20, 200, 300),
                          "age": rng.uniform(0, 80, 300),
                          "city": rng.choice(["Lyon", "Oslo", "Quito"], 300)})  # fmt: skip
    y = np.where((frame["city"] == "Oslo") | (frame["size"] > 120), "buy", "wait")
    encode = ColumnTransformer([("numbers", StandardScaler(), ["size", "age"]),
                                ("cities", OneHotEncoder(), ["city"])])  # fmt: skip
    pipeline = _fit(make_pipeline(encode, BackpropClassifier((16,), max_iter=50,
                                                             random_state=0)),
                    frame, y)  # fmt: skip
    onx = to_onnx(pipeline, frame[:1], options={"zipmap": False})
    feeds = {
        "size": frame[["size"]].to_numpy(np.float64),
        "age": frame[["age"]].to_numpy(np.float64),
        "city": frame[["city"]].to_numpy(object),
    }
    labels, probabilities = _run(onx, feeds)
    assert_array_equal(labels, pipeline.predict(frame))
    assert_allclose(probabilities, pipeline.predict_proba(frame), rtol=1e-5, atol=1e-6)


def test_exports_that_cannot_work_say_why():
    X = _inputs(np.float64)
    one_class = _fit(BackpropClassifier((4,), max_iter=5), X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="one class"):
        to_onnx(one_class, X[:1], options={"zipmap": False})
    model = _fit(BackpropClassifier((4,), max_iter=5), X, X[:, 0] > 0)
    with pytest.raises(ValueError, match="zipmap"):
        to_onnx(model, X[:1])  # float64 probabilities cannot go through ZipMap
    with pytest.raises(ValueError, match="not fitted"):
        to_onnx(BackpropRegressor(), X[:1])


def test_importing_fastbp_imports_no_onnx_library():
    code = (
        "import sys, fastbp; "
        "print(sorted(m for m in ('skl2onnx', 'onnx', 'onnxruntime') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr
