"""Properties over random shapes, activations, losses and solvers (hypothesis).

Training properties hold for both estimators (the classifier learns string
labels of the same targets, with its own loss and output layer).
"""

import warnings

import naive
import numpy as np
import pytest
from conftest import ESTIMATORS, assert_same_weights, central_difference, weights
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

import fastbp._base as base
from fastbp import BackpropRegressor
from fastbp._activations import ACTIVATION_CODES, OUTPUT_CODES
from fastbp._layout import parameter_offsets
from fastbp._loss import LOSS_CODES, gradient_scale
from fastbp._network import FullBatch

networks = st.fixed_dictionaries(
    {
        "hidden_layer_sizes": st.lists(st.integers(1, 9), max_size=3).map(tuple),
        "activation": st.sampled_from(sorted(ACTIVATION_CODES)),
        "loss": st.sampled_from(["squared_error", "absolute_error", "huber"]),
        "solver": st.sampled_from(["sgd", "adam"]),
        "batch_size": st.integers(1, 40),
        "random_state": st.integers(0, 2**16),
    }
)


def data(seed, n_samples, n_features, n_outputs, dtype):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)).astype(dtype)
    y = np.tanh(X @ rng.normal(size=(n_features, n_outputs))).astype(dtype)
    return X, (y[:, 0] if n_outputs == 1 else y)


REGRESSION_ONLY = ("loss", "out_activation")


def for_estimator(name, params, y):
    """Drawn parameters and targets as estimator ``name`` takes them: the
    classifier's loss and output layer are its own, its targets labels."""
    if name == "classifier":
        params = {k: v for k, v in params.items() if k not in REGRESSION_ONLY}
    return ESTIMATORS[name], params, ESTIMATORS[name].targets(y)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@settings(deadline=None, max_examples=40, derandomize=True)
@given(
    params=networks,
    shape=st.tuples(st.integers(2, 60), st.integers(1, 5), st.integers(1, 3)),
    dtype=st.sampled_from([np.float32, np.float64]),
    epochs=st.integers(1, 4),
)
def test_partial_fit_calls_equal_fit_epochs(name, params, shape, dtype, epochs):
    """k partial_fit calls give the weights of fit(max_iter=k), shuffle=False."""
    X, y = data(params["random_state"], *shape, dtype)
    estimator, params, y = for_estimator(name, params, y)
    params = {**params, "shuffle": False, "tol": 0.0, "n_iter_no_change": np.inf}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)  # batch_size clipped
        fitted = estimator.cls(**params, max_iter=epochs).fit(X, y)
        stepped = estimator.cls(**params)
        for _ in range(epochs):
            stepped.partial_fit(X, y, **estimator.partial_fit_params(y))
    assert_same_weights(stepped, fitted)
    assert fitted.loss_curve_ == stepped.loss_curve_


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@settings(deadline=None, max_examples=30, derandomize=True)
@given(
    params=networks,
    shape=st.tuples(st.integers(1, 300), st.integers(1, 5), st.integers(1, 3)),
    chunk=st.integers(1, 64),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_predictions_do_not_depend_on_row_chunks(name, params, shape, chunk, dtype):
    """Predicting in chunks of any size gives the same values (to the dtype's
    rounding: BLAS may block a product differently for other row counts)."""
    X, y = data(params["random_state"], *shape, dtype)
    estimator, params, y = for_estimator(name, params, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = estimator.cls(**params, max_iter=2).fit(X, y)
    predict = getattr(model, estimator.outputs)
    whole = predict(X)
    saved = base.PREDICT_CHUNK_ROWS
    try:
        base.PREDICT_CHUNK_ROWS = chunk
        chunked = predict(X)
    finally:
        base.PREDICT_CHUNK_ROWS = saved
    assert chunked.dtype == whole.dtype == dtype
    naive.assert_close(chunked, whole, dtype)
    one_by_one = np.array([predict(X[i : i + 1]) for i in range(len(X))])
    naive.assert_close(one_by_one.reshape(whole.shape), whole, dtype)


# ------------------------------------------------ gradients by finite differences

PIECEWISE = {"relu", "leaky_relu", "elu"}  # activations with a kink at Z = 0


def network_output(params, units, names, X):
    """Pre-activations of every layer and the output P, by plain NumPy
    (``names[-1] == 'exp'`` is Poisson's exponential output)."""
    coefs, intercepts = naive.unpack(params, units)
    A, Zs = X, []
    for W, b, name in zip(coefs, intercepts, names):
        Zs.append(A @ W + b)
        A = np.exp(Zs[-1]) if name == "exp" else naive.activate(Zs[-1], name)
    return Zs, A


def loss_and_sides(params, problem):
    """The loss fastbp reports (L2 term included), by plain NumPy; and on
    which linear piece every kink of the network and of the loss lies (the
    loss is smooth on any segment where these do not change), with the
    distance to the nearest kink."""
    X, Y, w, units, names, loss, huber_delta, alpha = problem
    Zs, P = network_output(params, units, names, X)
    coefs = naive.unpack(params, units)[0]
    penalty = 0.5 * alpha * sum(np.sum(W**2) for W in coefs) / w.sum()
    kinks = [Z for Z, name in zip(Zs, names) if name in PIECEWISE]
    if loss in ("absolute_error", "huber"):
        kinks.append(P - Y)
    if loss == "huber":
        kinks.append(np.abs(P - Y) - huber_delta)
    sides = tuple(tuple((K > 0).ravel()) for K in kinks)
    margin = min((np.abs(K).min() for K in kinks), default=np.inf)
    return naive.loss(loss, P, Y, w, huber_delta) + penalty, sides, margin


def assert_matches_smooth_differences(gradient, numeric):
    """Relative error <= 1e-6 (1e-11 absolute below 1e-5) wherever smooth;
    kinks are rare, so most coordinates must have been checked."""
    checked = ~np.isnan(numeric)
    assert checked.mean() >= 0.5
    g, n = gradient[checked], numeric[checked]
    relative = np.abs(g - n) / np.maximum(np.maximum(np.abs(g), np.abs(n)), 1e-5)
    assert relative.max(initial=0.0) <= 1e-6


problems = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**16),
        "n_samples": st.integers(1, 30),
        "n_features": st.integers(1, 4),
        "hidden": st.lists(st.integers(1, 6), max_size=2),
        "n_outputs": st.integers(1, 3),
        "activation": st.sampled_from(sorted(ACTIVATION_CODES)),
        "out_activation": st.sampled_from(sorted(ACTIVATION_CODES)),
        "loss": st.sampled_from(sorted(LOSS_CODES)),
        "huber_delta": st.floats(0.1, 2.0),
        "alpha": st.floats(0.0, 1.0),
    }
)


def make_problem(p):
    """Random data, weights and a network description from a ``problems`` draw."""
    rng = np.random.RandomState(p["seed"])
    units = np.array([p["n_features"], *p["hidden"], p["n_outputs"]])
    out = "exp" if p["loss"] == "poisson" else p["out_activation"]
    names = [p["activation"]] * len(p["hidden"]) + [out]
    X = rng.normal(size=(p["n_samples"], p["n_features"]))
    Y = rng.normal(size=(p["n_samples"], p["n_outputs"]))
    if p["loss"] == "poisson":
        Y = rng.poisson(1.5, size=Y.shape).astype(float)
    w = rng.uniform(0.1, 2.0, p["n_samples"])
    params = rng.uniform(-0.8, 0.8, parameter_offsets(units)[-1])
    problem = (X, Y, w, units, names, p["loss"], p["huber_delta"], p["alpha"])
    return params, problem


def kernel_gradient(params, problem, output_scale, dtype):
    """fastbp's full-batch (loss, gradient) in ``dtype``."""
    X, Y, w, units, names, loss, huber_delta, alpha = problem
    codes = np.array([OUTPUT_CODES[name] for name in names])
    network = (units, parameter_offsets(units), codes)
    objective = FullBatch(
        *(np.ascontiguousarray(a, dtype=dtype) for a in (X, Y, w)),
        network, alpha, output_scale, (LOSS_CODES[loss], huber_delta),
    )  # fmt: skip
    return objective(params.astype(dtype))


@pytest.mark.parametrize("activation", sorted(ACTIVATION_CODES))
@settings(deadline=None, max_examples=8, derandomize=True)
@given(p=problems)
def test_gradient_matches_finite_differences_of_the_reported_loss(activation, p):
    """Over random shapes, output activations, losses, weights and alpha, for
    every hidden activation: the float64 gradient matches finite differences
    of a plain-NumPy loss away from kinks, and the loss itself matches to
    1e-12; the float32 gradient matches the float64 one to 1e-4 of its
    largest component (a few hundred roundings of 6e-8 each, with margin)
    when no kink lies within float32 rounding of the data."""
    params, problem = make_problem({**p, "activation": activation})
    scale = gradient_scale(LOSS_CODES[p["loss"]], p["n_outputs"])
    loss, grad = kernel_gradient(params, problem, scale, np.float64)
    value, _, margin = loss_and_sides(params, problem)
    assert loss == pytest.approx(value, rel=1e-12)
    numeric = central_difference(lambda x: loss_and_sides(x, problem)[:2], params)
    assert_matches_smooth_differences(grad, numeric)
    if margin > 1e-3:
        _, grad32 = kernel_gradient(params, problem, scale, np.float32)
        assert grad32.dtype == np.float32
        atol = 1e-4 * max(np.abs(grad).max(), 1e-3)
        assert_allclose(grad32, grad, rtol=0, atol=atol)


@settings(deadline=None, max_examples=25, derandomize=True)
@given(p=problems, learning_rate=st.floats(1e-3, 0.1))
def test_one_sgd_step_is_the_gradient_step(p, learning_rate):
    """The estimator's path: one full-batch SGD step without momentum moves the
    weights by -learning_rate times the finite-difference gradient of the
    loss whose data term is scaled as scikit-learn's stochastic solvers scale
    it (n_outputs times the reported one, except for Poisson)."""
    params, problem = make_problem(p)
    X, Y, w, units, names, loss, huber_delta, alpha = problem
    coefs, intercepts = naive.unpack(params.copy(), units)
    model = BackpropRegressor(
        tuple(p["hidden"]), p["activation"], loss=loss, huber_delta=huber_delta,
        out_activation="identity" if loss == "poisson" else names[-1],
        solver="sgd", momentum=0.0, alpha=alpha, batch_size=len(X),
        learning_rate_init=learning_rate, max_iter=1, shuffle=False,
        warm_start=True,
    )  # fmt: skip
    model.coefs_, model.intercepts_ = coefs, intercepts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, Y if p["n_outputs"] > 1 else Y[:, 0], sample_weight=w)
    step = (params - naive.pack(model.coefs_, model.intercepts_)) / learning_rate
    data_scale = 1.0 / gradient_scale(LOSS_CODES[loss], p["n_outputs"])
    penalty = 0.5 * alpha / w.sum()

    def sgd_objective(x):
        value, sides, _ = loss_and_sides(x, problem)
        l2 = sum(np.sum(W**2) for W in naive.unpack(x, units)[0])
        return data_scale * (value - penalty * l2) + penalty * l2, sides

    assert_matches_smooth_differences(step, central_difference(sgd_objective, params))


# ------------------------------------------------ training: dtypes and determinism

trainings = st.fixed_dictionaries(
    {
        "hidden_layer_sizes": st.lists(st.integers(1, 8), max_size=2).map(tuple),
        "activation": st.sampled_from(sorted(ACTIVATION_CODES)),
        "out_activation": st.sampled_from(sorted(ACTIVATION_CODES)),
        "loss": st.sampled_from(sorted(LOSS_CODES)),
        "solver": st.sampled_from(["sgd", "adam", "lbfgs"]),
        "batch_size": st.integers(1, 40),
        "random_state": st.integers(0, 2**16),
    }
)


def training_setup(name, params, shape):
    """Estimator, its parameters (Poisson keeps the identity output) and data."""
    if params["loss"] == "poisson":
        params = {**params, "out_activation": "identity"}
    X, y = data(params["random_state"], *shape, np.float64)
    y = np.abs(y) if params["loss"] == "poisson" else y
    estimator, params, y = for_estimator(name, params, y)
    return estimator, params, X, y


def in_dtype(y, dtype):
    """Numeric targets in ``dtype``; labels as they are."""
    return y.astype(dtype) if y.dtype.kind == "f" else y


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@settings(deadline=None, max_examples=30, derandomize=True)
@given(
    params=trainings,
    shape=st.tuples(st.integers(2, 60), st.integers(1, 5), st.integers(1, 3)),
    epochs=st.integers(1, 3),
)
def test_float32_training_follows_float64(name, params, shape, epochs):
    """From the same initial weights (drawn in float64, cast), with the same
    batches, a float32 fit stays float32 and its predictions stay within 1e-4
    of the float64 fit's (targets are in [-1, 1]; each step adds roundings of
    about 6e-8 relative, and over these few epochs the largest difference
    seen was 5e-6), its loss curve within 1e-4 relative."""
    estimator, params, X, y = training_setup(name, params, shape)
    params = {**params, "max_iter": epochs, "learning_rate_init": 0.01}
    rng = np.random.RandomState(params["random_state"])
    n_outputs = shape[2] if name == "regressor" else output_units(y)
    units = [shape[1], *params["hidden_layer_sizes"], n_outputs]
    coefs = [rng.uniform(-0.5, 0.5, s) for s in zip(units[:-1], units[1:])]
    intercepts = [rng.uniform(-0.5, 0.5, n) for n in units[1:]]
    fits = {}
    for dtype in (np.float64, np.float32):
        model = estimator.cls(**params, warm_start=True)
        model.coefs_ = [c.astype(dtype) for c in coefs]
        model.intercepts_ = [b.astype(dtype) for b in intercepts]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)  # batch_size clipped
            model.fit(X.astype(dtype), in_dtype(y, dtype))
        assert all(a.dtype == dtype for a in weights(model))
        fits[dtype] = model
    P32 = getattr(fits[np.float32], estimator.outputs)(X.astype(np.float32))
    assert P32.dtype == np.float32
    P64 = getattr(fits[np.float64], estimator.outputs)(X)
    assert_allclose(P32, P64, rtol=0, atol=1e-4)
    assert_allclose(
        fits[np.float32].loss_curve_, fits[np.float64].loss_curve_, rtol=1e-4
    )


def output_units(labels):
    """Output units of a classifier of ``labels``: one for two classes."""
    n_classes = len(np.unique(labels))
    return 1 if n_classes <= 2 else n_classes


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@settings(deadline=None, max_examples=30, derandomize=True)
@given(
    params=trainings,
    shape=st.tuples(st.integers(12, 60), st.integers(1, 5), st.integers(1, 3)),
    dtype=st.sampled_from([np.float32, np.float64]),
    early_stopping=st.booleans(),
)
def test_same_random_state_gives_bitwise_identical_weights(
    name, params, shape, dtype, early_stopping
):
    """Two fits with the same random_state in one process: the same bits."""
    estimator, params, X, y = training_setup(name, params, shape)
    params = {**params, "max_iter": 3, "early_stopping": early_stopping}
    runs = []
    for _ in range(2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)  # batch_size clipped
            model = estimator.cls(**params).fit(X.astype(dtype), in_dtype(y, dtype))
        runs.append(model)
    first, second = runs
    for a, b in zip(weights(first), weights(second)):
        assert a.dtype == dtype
        assert a.tobytes() == b.tobytes()
    assert first.loss_curve_ == second.loss_curve_
