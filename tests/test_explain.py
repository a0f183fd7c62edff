"""explain_step: the numbers of one backprop step, checked by hand and
against fastbp's own training step."""

import doctest
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

import fastbp._explain
from sklearn.metrics import log_loss

from fastbp import BackpropClassifier, BackpropRegressor, explain_step


def lecture_neuron():
    neuron = BackpropRegressor(
        (), out_activation="logistic", alpha=0.0, learning_rate_init=0.01
    )
    neuron.coefs_ = [np.array([[0.5], [0.2]])]
    neuron.intercepts_ = [np.array([1.83])]
    return neuron


def test_lecture_example_by_hand():
    """x = (0.1, 0.3), d = 0.03, w = (0.5, 0.2), b = 1.83, eta = 0.01."""
    step = explain_step(lecture_neuron(), [[0.1, 0.3]], [0.03])
    (layer,) = step.layers
    assert layer.s[0, 0] == pytest.approx(1.94, abs=1e-15)
    assert round(layer.f_s[0, 0], 9) == 0.874352143
    assert round(step.error, 9) == 0.356465271
    y, d, x = layer.f_s[0, 0], 0.03, np.array([0.1, 0.3])
    dE_ds = (y - d) * y * (1 - y)  # chain rule: dE/dy * dy/ds
    assert_allclose(layer.delta[0, 0], dE_ds, rtol=1e-15)
    assert_allclose(layer.dE_dW.ravel(), dE_ds * x, rtol=1e-15)
    assert_allclose(layer.W_new.ravel(), [0.5, 0.2] - 0.01 * dE_ds * x, rtol=1e-15)
    assert_allclose(layer.b_new, [1.83 - 0.01 * dE_ds], rtol=1e-15)
    # The rule that ignores f': W + eta (d - y) x.
    W, b = step.delta_rule
    assert_allclose(W.ravel(), [0.499155648, 0.197466943], atol=1e-9)
    assert_allclose(b, [1.821556479], atol=1e-9)


def test_text_reads_like_the_derivation():
    text = str(explain_step(lecture_neuron(), [[0.1, 0.3]], [0.03]))
    for expected in [
        "0.1*0.5 + 0.3*0.2 + 1.83 = 1.94",
        "f(s1) = 0.874352143",
        "E = 1/2 (d - y)^2",
        "0.356465271",
        "delta = dE/ds",
        "w <- w - eta * dE/dw",
        "ignores f'(s)",
    ]:
        assert expected in text


@pytest.mark.parametrize("hidden, activation", [((5,), "tanh"), ((4, 3), "relu")])
def test_update_is_fastbps_sgd_step(hidden, activation):
    """The weights after the step are those of one sgd step of fastbp
    (momentum 0, the batch as one mini-batch), and E is its loss_."""
    rng = np.random.RandomState(0)
    X, Y = rng.normal(size=(12, 3)), rng.normal(size=(12, 2))
    model = BackpropRegressor(
        hidden,
        activation=activation,
        solver="sgd",
        momentum=0.0,
        alpha=0.01,
        learning_rate_init=0.1,
        batch_size=12,
        shuffle=False,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.partial_fit(X, Y)
    step = explain_step(model, X, Y)
    model.partial_fit(X, Y)
    assert step.error == pytest.approx(model.loss_, rel=1e-12)
    for layer, W, b in zip(step.layers, model.coefs_, model.intercepts_):
        assert_allclose(layer.W_new, W, rtol=1e-10, atol=1e-14)
        assert_allclose(layer.b_new, b, rtol=1e-10, atol=1e-14)
    assert step.delta_rule is None


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("hidden", [(), (4,)])
def test_classifier_step_is_sgds_and_error_is_the_log_loss(n_classes, hidden):
    """A classifier's step: softmax (or logistic) output, cross-entropy error
    equal to scikit-learn's log_loss plus the L2 term, delta y - d, and the
    weights of one sgd step of fastbp."""
    rng = np.random.RandomState(1)
    X, y = rng.normal(size=(15, 3)), np.arange(15) % n_classes
    model = BackpropClassifier(
        hidden, solver="sgd", momentum=0.0, alpha=0.01, learning_rate_init=0.1,
        batch_size=15, shuffle=False, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.partial_fit(X, y, classes=np.arange(n_classes))
    step = explain_step(model, X, y)
    penalty = 0.5 * 0.01 * sum(np.sum(W**2) for W in model.coefs_) / len(X)
    assert step.error == pytest.approx(
        log_loss(y, model.predict_proba(X)) + penalty, rel=1e-12
    )
    assert_allclose(step.layers[-1].delta, step.predicted - step.desired)
    model.partial_fit(X, y)
    assert step.error == pytest.approx(model.loss_, rel=1e-12)
    for layer, W, b in zip(step.layers, model.coefs_, model.intercepts_):
        assert_allclose(layer.W_new, W, rtol=1e-10, atol=1e-14)
        assert_allclose(layer.b_new, b, rtol=1e-10, atol=1e-14)
    assert "y - d" in str(step) and step.delta_rule is None


def test_docstring_example_runs():
    result = doctest.testmod(fastbp._explain)
    assert result.attempted > 0 and result.failed == 0


def test_wrong_shapes_are_refused():
    with pytest.raises(ValueError, match="2 inputs"):
        explain_step(lecture_neuron(), [[0.1, 0.3, 0.5]], [0.03])
