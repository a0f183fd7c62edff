"""The textbook hand calculation, through the public API.

One logistic neuron, inputs (0.1, 0.3), desired output 0.03, weights
(0.5, 0.2), bias 1.83: s = 1.94, f(s) = 0.874352143, E = 0.356465271. One
step of gradient descent with learning rate 0.01 moves each weight by
-0.01 * dE/dw, with dE/dw_i = (y - d) * y * (1 - y) * x_i by the chain rule.
"""

import numpy as np
import pytest

from fastbp import BackpropRegressor

X = np.array([[0.1, 0.3]])
DESIRED = 0.03
W = np.array([0.5, 0.2])
B = 1.83
ETA = 0.01


@pytest.fixture
def neuron():
    """A fitted one-neuron network whose weights are set to the example's."""
    model = BackpropRegressor(
        (),
        solver="sgd",
        out_activation="logistic",
        momentum=0.0,
        alpha=0.0,
        learning_rate_init=ETA,
        batch_size=1,
        max_iter=1,
        shuffle=False,
        warm_start=True,
    )
    with pytest.warns(Warning, match="Maximum iterations"):
        model.fit(X, [DESIRED])
    model.coefs_ = [W.reshape(2, 1).copy()]
    model.intercepts_ = [np.array([B])]
    return model


def test_forward_pass_by_hand(neuron):
    """s = x1*w1 + x2*w2 + b = 1.94 and f(s) = 1 / (1 + e^-s) = 0.874352143."""
    s = 0.1 * 0.5 + 0.3 * 0.2 + 1.83
    assert s == pytest.approx(1.94, abs=1e-15)
    prediction = neuron.predict(X)[0]
    assert round(prediction, 9) == 0.874352143
    assert prediction == pytest.approx(1.0 / (1.0 + np.exp(-s)), rel=1e-15)


def test_one_step_by_hand(neuron):
    """loss_ is E = 1/2 (d - y)^2; the update is w - eta * dE/dw."""
    y = 1.0 / (1.0 + np.exp(-(X[0] @ W + B)))
    with pytest.warns(Warning, match="Maximum iterations"):
        neuron.fit(X, [DESIRED])
    assert round(neuron.loss_, 9) == 0.356465271
    assert neuron.loss_ == pytest.approx(0.5 * (DESIRED - y) ** 2, rel=1e-15)
    # Chain rule: dE/dy = (y - d), dy/ds = y (1 - y), ds/dw_i = x_i, ds/db = 1.
    dE_ds = (y - DESIRED) * y * (1.0 - y)
    np.testing.assert_allclose(
        neuron.coefs_[0].ravel(), W - ETA * dE_ds * X[0], rtol=1e-15
    )
    np.testing.assert_allclose(neuron.intercepts_[0], [B - ETA * dE_ds], rtol=1e-15)
    assert neuron.n_iter_ == 1
    assert neuron.t_ == 2


def test_example_runs_for_many_epochs(neuron):
    """Repeated passes drive the prediction towards the desired 0.03."""
    neuron.set_params(max_iter=3000, tol=0.0, n_iter_no_change=np.inf)
    with pytest.warns(Warning, match="Maximum iterations"):
        neuron.fit(X, [DESIRED])
    curve = np.array(neuron.loss_curve_[-3000:])
    assert np.all(np.diff(curve) < 0)
    assert abs(neuron.predict(X)[0] - DESIRED) < abs(0.874352143 - DESIRED) / 2
