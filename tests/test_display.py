"""LossCurveDisplay: what it draws is the estimator's history."""

import subprocess
import sys
import warnings

import matplotlib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from fastbp import BackpropClassifier, BackpropRegressor, LossCurveDisplay

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _data(classifier):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4))
    y = X[:, 0] + np.sin(2 * X[:, 1])
    return X, (np.where(y > 0, "up", "down") if classifier else y)


def _fit(cls, **params):
    X, y = _data(cls is BackpropClassifier)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls((8,), max_iter=40, random_state=0, **params).fit(X, y)


@pytest.mark.parametrize("cls", [BackpropRegressor, BackpropClassifier])
def test_early_stopping_curves_and_best_epoch(cls):
    model = _fit(cls, early_stopping=True, n_iter_no_change=5)
    display = LossCurveDisplay.from_estimator(model)
    epochs = np.arange(1, model.n_iter_ + 1)
    assert_array_equal(display.line_.get_xdata(), epochs)
    assert_array_equal(display.line_.get_ydata(), model.loss_curve_)
    assert_array_equal(display.validation_line_.get_ydata(), model.validation_loss_curve_)
    assert_array_equal(display.score_line_.get_ydata(), model.validation_scores_)
    best = int(np.argmax(model.validation_scores_)) + 1
    assert display.best_line_.get_xdata()[0] == best
    assert model.validation_scores_[best - 1] == model.best_validation_score_
    expected = "validation accuracy" if cls is BackpropClassifier else "validation R^2"
    assert display.score_ax_.get_ylabel() == expected
    assert display.figure_ is display.ax_.figure


@pytest.mark.parametrize("cls", [BackpropRegressor, BackpropClassifier])
def test_without_early_stopping_no_epoch_is_marked(cls):
    """The estimator keeps the last epoch's weights: nothing to mark."""
    model = _fit(cls)
    display = LossCurveDisplay.from_estimator(model)
    assert display.validation_line_ is None and display.score_line_ is None
    assert display.best_line_ is None
    assert_array_equal(display.line_.get_ydata(), model.loss_curve_)


def test_lbfgs_counts_iterations_and_draws_on_a_given_axes():
    model = _fit(BackpropRegressor, solver="lbfgs")
    _, ax = plt.subplots()
    display = LossCurveDisplay.from_estimator(model, ax=ax, name="mine")
    assert display.ax_ is ax and ax.get_title() == "mine"
    assert ax.get_xlabel() == "iteration"
    assert len(display.line_.get_ydata()) == len(model.loss_curve_) > 0


def test_an_unfitted_estimator_is_refused():
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(BackpropClassifier())


def test_importing_fastbp_does_not_import_matplotlib():
    code = "import sys, fastbp; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
