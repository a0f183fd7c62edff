"""BackpropRegressor: what is particular to regression (parameters, outputs,
losses, R^2, numeric targets). What the shared base gives it is tested with
the classifier's in test_base and the other cross-cutting files."""

import inspect

import numpy as np
import pytest
from conftest import make_data, sines, with_value
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neural_network import MLPRegressor

from fastbp import BackpropRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# ------------------------------------------------------------- parameters


def test_parameters_are_mlpregressors_plus_out_activation():
    """Same names and defaults as MLPRegressor; hidden_layer_sizes first."""
    ours = BackpropRegressor().get_params()
    theirs = MLPRegressor().get_params()
    assert ours.pop("out_activation") == "identity"
    assert ours.pop("huber_delta") == 1.0
    assert ours == theirs
    first = next(iter(inspect.signature(BackpropRegressor).parameters))
    assert first == "hidden_layer_sizes"
    assert BackpropRegressor((50, 50)).hidden_layer_sizes == (50, 50)


# ------------------------------------------------------------ fitted state


def test_multi_output():
    X, Y = make_data(120, 4, sines(3))
    model = BackpropRegressor((16,), max_iter=300, random_state=0).fit(X, Y)
    assert model.n_outputs_ == 3
    assert model.predict(X).shape == (len(X), 3)
    assert model.score(X, Y) > 0.8


def test_no_hidden_layer_is_a_linear_neuron_per_output():
    """hidden_layer_sizes=() predicts X @ W + b and learns a linear map."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    Y = X @ np.array([[1.0, -2.0], [0.5, 0.0], [0.0, 3.0]]) + [0.3, -0.1]
    model = BackpropRegressor(
        (),
        solver="sgd",
        momentum=0.0,
        alpha=0.0,
        learning_rate_init=0.05,
        max_iter=500,
        random_state=0,
    ).fit(X, Y)
    assert model.n_layers_ == 2
    assert_allclose(
        model.predict(X), X @ model.coefs_[0] + model.intercepts_[0], rtol=1e-12
    )
    assert model.score(X, Y) > 0.999


# ------------------------------------------------------------ bad input

GOOD_X, GOOD_Y = make_data(20, 4, sines(1))


# Bad X: test_inputs, for both estimators.
@pytest.mark.parametrize(
    "y, message",
    [
        (with_value(GOOD_Y, 2, np.nan), "NaN"),
        (with_value(GOOD_Y, 2, -np.inf), "infinity"),
        (np.full(20, "a"), "float|numeric"),
    ],
)
def test_bad_targets_raise_value_error(y, message):
    with pytest.raises(ValueError, match=message):
        BackpropRegressor((3,), max_iter=2).fit(GOOD_X, y)


@pytest.mark.parametrize("method", ["warm fit", "partial_fit", "lbfgs warm fit"])
def test_continuing_with_more_outputs_raises(method):
    """A warm refit or partial_fit with another number of outputs is refused
    with a ValueError that says so, and the model is intact (scikit-learn's
    MLPRegressor fails with a matmul error instead). Other numbers of
    features: test_base."""
    solver = "lbfgs" if method == "lbfgs warm fit" else "adam"
    model = BackpropRegressor((3,), solver=solver, max_iter=2, warm_start=True)
    model.fit(GOOD_X, GOOD_Y)
    before = model.predict(GOOD_X)
    with pytest.raises(ValueError, match="outputs"):
        if method == "partial_fit":
            model.partial_fit(GOOD_X, np.c_[GOOD_Y, GOOD_Y])
        else:
            model.fit(GOOD_X, np.c_[GOOD_Y, GOOD_Y])
    assert_array_equal(model.predict(GOOD_X), before)


@pytest.mark.parametrize("method", ["warm fit", "partial_fit"])
@pytest.mark.parametrize(
    "change", [dict(out_activation="tanh"), dict(loss="poisson")], ids=str
)
def test_continuing_with_another_output_layer_raises(method, change):
    """Changing out_activation (or to loss='poisson', whose output is exp)
    after fitting cannot continue the same network: a ValueError names it,
    instead of a silently ignored change or a divergence."""
    model = BackpropRegressor((3,), max_iter=2, warm_start=True)
    model.fit(GOOD_X, np.abs(GOOD_Y))
    before = model.predict(GOOD_X)
    model.set_params(**change)
    with pytest.raises(ValueError, match="output activation is 'identity'"):
        if method == "partial_fit":
            model.partial_fit(GOOD_X, np.abs(GOOD_Y))
        else:
            model.fit(GOOD_X, np.abs(GOOD_Y))
    assert_array_equal(model.predict(GOOD_X), before)
    model.set_params(warm_start=False).fit(GOOD_X, np.abs(GOOD_Y))  # starts anew
    assert model.out_activation_ == ("exp" if "loss" in change else "tanh")


# ---------------------------------------------------------- early stopping


def test_validation_loss_curve_matches_validation_scores():
    """For one output, 0.5 * MSE = 0.5 * (1 - R^2) * var(y_val): the ratio of
    validation_loss_curve_ to 1 - validation_scores_ is the same every epoch,
    and the best score is the one whose weights are kept."""
    X, y = make_data(300, 4, sines(1))
    model = BackpropRegressor(
        (16,),
        early_stopping=True,
        random_state=0,
        max_iter=40,
        n_iter_no_change=5,
        tol=1e-6,
        learning_rate_init=0.01,
    ).fit(X, y)
    scores = np.array(model.validation_scores_)
    losses = np.array(model.validation_loss_curve_)
    assert len(scores) == len(losses) == model.n_iter_ == len(model.loss_curve_)
    ratios = losses / (1.0 - scores)
    assert_allclose(ratios, ratios[0], rtol=1e-9)
    assert model.best_validation_score_ == scores.max()
    assert model.best_loss_ is None


def test_robust_losses_beat_squared_error_with_outliers():
    """Trained on targets with 10% gross outliers, Huber and absolute error
    predict clean held-out targets better than squared error."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(600, 2))
    clean = np.sin(X[:, 0]) + 0.5 * X[:, 1]
    y = clean + 0.05 * rng.normal(size=600)
    outliers = rng.rand(600) < 0.1
    y[outliers] += rng.choice([-1.0, 1.0], outliers.sum()) * 20.0
    train, test = slice(0, 400), slice(400, 600)
    errors = {}
    for loss in ["squared_error", "huber", "absolute_error"]:
        model = BackpropRegressor(
            (32,), loss=loss, learning_rate_init=0.01, max_iter=300, random_state=0
        )
        model.fit(X[train], y[train])
        errors[loss] = np.mean((model.predict(X[test]) - clean[test]) ** 2)
    assert errors["huber"] < errors["squared_error"] / 2
    assert errors["absolute_error"] < errors["squared_error"] / 2


def test_poisson_refuses_negative_targets_and_other_outputs():
    with pytest.raises(ValueError, match="non-negative"):
        BackpropRegressor((3,), loss="poisson").fit(GOOD_X, GOOD_Y - 5)
    with pytest.raises(ValueError, match="out_activation"):
        BackpropRegressor((3,), loss="poisson", out_activation="relu").fit(
            GOOD_X, np.abs(GOOD_Y)
        )
