"""The backward pass against finite differences of the loss.

The compiled gradient follows scikit-learn's convention: the output delta is
not divided by n_outputs, so the gradient is that of

    J = 0.5 * sum_i w_i ||P_i - Y_i||^2 / sum_i w_i + 0.5 * alpha * ||W||^2 / sum_i w_i

which is the reported loss with its data term multiplied by n_outputs (the
same for one output). J is computed here by a plain NumPy forward pass.
"""

import naive
import numpy as np
import pytest
from conftest import central_difference

from fastbp._activations import ACTIVATION_CODES, OUTPUT_CODES
from fastbp._layout import parameter_offsets
from fastbp._loss import BINARY_LOG_LOSS, LOG_LOSS, LOSS_CODES, gradient_scale
from fastbp._network import FullBatch, loss_and_gradient

ACTIVATIONS = sorted(ACTIVATION_CODES)


def objective(params, X, Y, w, units, hidden, out, alpha):
    """J (see the module docstring) and the reported loss, by NumPy."""
    coefs, intercepts = naive.unpack(params, units)
    names = [hidden] * (len(units) - 2) + [out]
    P = naive.forward(coefs, intercepts, names, X)[-1]
    data = 0.5 * np.sum(w * np.sum((P - Y) ** 2, axis=1)) / w.sum()
    penalty = 0.5 * alpha * sum(np.sum(W**2) for W in coefs) / w.sum()
    return data + penalty, data / Y.shape[1] + penalty


@pytest.mark.parametrize("n_hidden_layers", [0, 1, 2, 3])
@pytest.mark.parametrize("hidden", ACTIVATIONS)
@pytest.mark.parametrize("out", ACTIVATIONS)
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_gradient_matches_finite_differences(n_hidden_layers, hidden, out, n_outputs):
    """Max relative error <= 1e-6 in float64, every activation pairing."""
    rng = np.random.RandomState(n_hidden_layers * 7 + n_outputs)
    n_samples, n_features = 13, 4
    units = np.array([n_features, *[5, 6, 3][:n_hidden_layers], n_outputs])
    offsets = parameter_offsets(units)
    params = rng.uniform(-0.8, 0.8, offsets[-1])
    X = rng.normal(size=(n_samples, n_features))
    Y = rng.normal(size=(n_samples, n_outputs))
    w = rng.uniform(0.5, 2.0, n_samples)
    alpha = 0.3
    codes = np.full(len(units) - 1, ACTIVATION_CODES[hidden], dtype=np.int64)
    codes[-1] = ACTIVATION_CODES[out]

    loss, grad = loss_and_gradient(params, X, Y, w, (units, offsets, codes), alpha)

    def J(p):
        return objective(p, X, Y, w, units, hidden, out, alpha)[0]

    numeric = central_difference(J, params)
    # Relative error, except below 1e-5 where the finite differences' own
    # rounding noise (~1e-12 here) would dominate: there the error is taken
    # relative to 1e-5, i.e. an absolute error of at most 1e-11 is required.
    scale = np.maximum(np.abs(numeric), np.abs(grad))
    relative = np.abs(grad - numeric) / np.maximum(scale, 1e-5)
    assert relative.max() <= 1e-6
    reported = objective(params, X, Y, w, units, hidden, out, alpha)[1]
    assert loss == pytest.approx(reported, rel=1e-12)


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_full_batch_gradient_is_that_of_the_reported_loss(n_outputs):
    """With output_scale = 1 / n_outputs (L-BFGS), the gradient matches finite
    differences of the loss that is returned, also for several outputs."""
    rng = np.random.RandomState(3)
    units = np.array([4, 6, n_outputs])
    offsets = parameter_offsets(units)
    params = rng.uniform(-0.8, 0.8, offsets[-1])
    X, Y = rng.normal(size=(15, 4)), rng.normal(size=(15, n_outputs))
    w = rng.uniform(0.5, 2.0, 15)
    codes = np.array([ACTIVATION_CODES["tanh"], ACTIVATION_CODES["identity"]])
    objective = FullBatch(X, Y, w, (units, offsets, codes), 0.3, 1.0 / n_outputs)
    loss, grad = objective(params)
    numeric = central_difference(lambda p: objective(p)[0], params)
    scale = np.maximum(np.abs(numeric), np.abs(grad))
    assert (np.abs(grad - numeric) / np.maximum(scale, 1e-5)).max() <= 1e-6
    reported = objective(params)[0]
    assert (
        loss
        == reported
        == pytest.approx(
            objective_value(params, X, Y, w, units, "tanh", "identity", 0.3), rel=1e-12
        )
    )


def objective_value(params, X, Y, w, units, hidden, out, alpha):
    return objective(params, X, Y, w, units, hidden, out, alpha)[1]


@pytest.mark.parametrize("loss", sorted(LOSS_CODES))
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("hidden", ["tanh", "elu"])
def test_every_loss_gradient_matches_finite_differences(loss, n_outputs, hidden):
    """The gradient of the loss itself (L-BFGS's scale) for every loss; its
    value is the NumPy reference's plus the L2 term."""
    rng = np.random.RandomState(11)
    units = np.array([4, 5, n_outputs])
    offsets = parameter_offsets(units)
    params = rng.uniform(-0.8, 0.8, offsets[-1])
    X = rng.normal(size=(15, 4))
    Y = rng.normal(size=(15, n_outputs))
    out = "identity"
    if loss == "poisson":
        Y, out = rng.poisson(2.0, size=Y.shape).astype(float), "exp"
    w = rng.uniform(0.5, 2.0, 15)
    codes = np.array([OUTPUT_CODES[hidden], OUTPUT_CODES[out]])
    code = LOSS_CODES[loss]
    objective = FullBatch(
        X, Y, w, (units, offsets, codes), 0.3, gradient_scale(code, n_outputs),
        (code, 0.5),
    )  # fmt: skip
    value, grad = objective(params)
    numeric = central_difference(lambda p: objective(p)[0], params)
    scale = np.maximum(np.abs(numeric), np.abs(grad))
    assert (np.abs(grad - numeric) / np.maximum(scale, 1e-5)).max() <= 1e-6
    coefs, intercepts = naive.unpack(params, units)
    P = (
        naive.forward(coefs, intercepts, [hidden, out], X)[-1]
        if out != "exp"
        else np.exp(naive.forward(coefs, intercepts, [hidden, "identity"], X)[-1])
    )
    penalty = 0.5 * 0.3 * sum(np.sum(W**2) for W in coefs) / w.sum()
    assert value == pytest.approx(naive.loss(loss, P, Y, w, 0.5) + penalty, rel=1e-10)


@pytest.mark.parametrize("n_hidden_layers", [0, 1, 2])
@pytest.mark.parametrize(
    "out, loss, n_outputs",
    [("softmax", LOG_LOSS, 4), ("logistic", BINARY_LOG_LOSS, 1),
     ("logistic", BINARY_LOG_LOSS, 3)],
)  # fmt: skip
def test_classifier_gradient_matches_finite_differences(
    n_hidden_layers, out, loss, n_outputs
):
    """The log loss with its softmax or logistic output: the gradient (output
    error P - Y, no output derivative) is that of the reported loss."""
    rng = np.random.RandomState(n_hidden_layers + n_outputs)
    units = np.array([4, *[5, 3][:n_hidden_layers], n_outputs])
    params = rng.uniform(-0.8, 0.8, parameter_offsets(units)[-1])
    X = rng.normal(size=(13, 4))
    if out == "softmax":
        Y = np.eye(n_outputs)[rng.randint(0, n_outputs, 13)]
    else:
        Y = (rng.uniform(size=(13, n_outputs)) < 0.5).astype(float)
    w = rng.uniform(0.2, 2.0, 13)
    codes = np.array([ACTIVATION_CODES["tanh"]] * n_hidden_layers + [OUTPUT_CODES[out]])
    network = (units, parameter_offsets(units), codes)
    objective = FullBatch(
        X, Y, w, network, 0.3, gradient_scale(loss, n_outputs), (loss, 1.0)
    )
    loss_value, grad = objective(params)

    def numpy_loss(p):
        coefs, intercepts = naive.unpack(p, units)
        names = ["tanh"] * n_hidden_layers + ["identity"]
        Z = naive.forward(coefs, intercepts, names, X)[-1]
        if out == "softmax":
            log_p = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
            per_sample = -(Y * log_p).sum(axis=1)
        else:
            per_sample = (np.logaddexp(0, -Z) * Y + np.logaddexp(0, Z) * (1 - Y)).sum(1)
        penalty = 0.5 * 0.3 * sum(np.sum(W**2) for W in coefs) / w.sum()
        return np.sum(w * per_sample) / w.sum() + penalty

    assert loss_value == pytest.approx(numpy_loss(params), rel=1e-12)
    numeric = central_difference(numpy_loss, params)
    assert np.max(np.abs(grad - numeric)) <= 1e-7 * max(1.0, np.abs(numeric).max())
