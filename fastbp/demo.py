"""A short demonstration on data that ships with scikit-learn.

Run ``python -m fastbp.demo``. It reproduces the textbook hand calculation of
one logistic neuron, then trains each fastbp estimator beside its
scikit-learn counterpart with the same settings, measured side by side:
BackpropRegressor and MLPRegressor on the diabetes data (test R^2),
BackpropClassifier and MLPClassifier on the digits (test accuracy), with
their time per fit.
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import BackpropClassifier, BackpropRegressor


def worked_example():
    """One logistic neuron, inputs (0.1, 0.3), target 0.03: one SGD step."""
    X, y = np.array([[0.1, 0.3]]), np.array([0.03])
    neuron = BackpropRegressor(
        (),
        solver="sgd",
        out_activation="logistic",
        momentum=0.0,
        alpha=0.0,
        learning_rate_init=0.01,
        batch_size=1,
        max_iter=1,
        shuffle=False,
        warm_start=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        neuron.fit(X, y)  # creates the network; its weights are set next
        neuron.coefs_ = [np.array([[0.5], [0.2]])]
        neuron.intercepts_ = [np.array([1.83])]
        prediction = neuron.predict(X)[0]
        neuron.fit(X, y)  # one forward and backward pass, one update
    print("Worked example: one logistic neuron, w = (0.5, 0.2), b = 1.83")
    print(f"  s = 1.94, f(s) = {prediction:.9f}, E = {neuron.loss_:.9f}")
    print(
        f"  after one step: w = {neuron.coefs_[0].ravel()}, b = {neuron.intercepts_[0]}"
    )


def _median_fit_seconds(estimator, X, y, repeats):
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        estimator.fit(X, y)
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds))


def _compare(title, models, data, score_name, repeats):
    """Fit each pipeline; print its test score and median seconds per fit."""
    X_train, X_test, y_train, y_test = data
    print(f"\n{title}:")
    seconds = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        models["fastbp"].fit(X_train[:50], y_train[:50])  # compile or load cache
        for name, model in models.items():
            seconds[name] = _median_fit_seconds(model, X_train, y_train, repeats)
            score = model.score(X_test, y_test)
            print(
                f"  {name:13s} test {score_name} = {score:.3f}   "
                f"{seconds[name]:.3f} s per fit (median of {repeats})"
            )
    print(
        f"  fastbp is {seconds['scikit-learn'] / seconds['fastbp']:.1f}x "
        "faster per fit, in this run"
    )


def compare_with_scikit_learn(repeats=5):
    """Each estimator beside scikit-learn's: regression on diabetes,
    classification on the digits."""
    X, y = load_diabetes(return_X_y=True)
    y = (y - y.mean()) / y.std()
    settings = dict(
        hidden_layer_sizes=(16,), alpha=1.0, max_iter=200, batch_size=32, random_state=0
    )
    models = {
        "fastbp": make_pipeline(StandardScaler(), BackpropRegressor(**settings)),
        "scikit-learn": make_pipeline(StandardScaler(), MLPRegressor(**settings)),
    }
    _compare(
        "Diabetes (442 x 10), BackpropRegressor vs MLPRegressor (16,), adam, "
        "200 epochs, batch 32",
        models, train_test_split(X, y, random_state=0), "R^2", repeats,
    )  # fmt: skip
    X, y = load_digits(return_X_y=True)
    settings = dict(
        hidden_layer_sizes=(32,), max_iter=50, batch_size=32, random_state=0
    )
    models = {
        "fastbp": make_pipeline(StandardScaler(), BackpropClassifier(**settings)),
        "scikit-learn": make_pipeline(StandardScaler(), MLPClassifier(**settings)),
    }
    _compare(
        "Digits (1797 x 64, 10 classes), BackpropClassifier vs MLPClassifier "
        "(32,), adam, 50 epochs, batch 32",
        models, train_test_split(X, y, random_state=0, stratify=y), "accuracy",
        repeats,
    )  # fmt: skip


if __name__ == "__main__":
    worked_example()
    compare_with_scikit_learn()
