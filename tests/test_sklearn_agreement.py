"""From equal initial weights, fastbp computes scikit-learn's weights.

Both estimators start from the same weights and see the same mini-batches
(shuffle=False, or the same random_state); after 5 epochs their weights,
intercepts and loss curves agree to a relative 1e-9 in float64.
"""

import warnings

import numpy as np
import pytest
from conftest import assert_weights_close, make_data, weights
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from fastbp import BackpropRegressor

EPOCHS = 5
RTOL = 1e-9

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def sines_and_sum(n_outputs=1):
    """``n_outputs`` targets ``sin(x_j) + 0.1 sum(x)`` (cycling through the
    features), 1-D for one output."""

    def target(X):
        n_features = X.shape[1]
        Y = np.column_stack(
            [
                np.sin(X[:, j % n_features]) + 0.1 * X.sum(axis=1)
                for j in range(n_outputs)
            ]
        )
        return Y.ravel() if n_outputs == 1 else Y

    return target


def normal_data(n_samples=103, n_outputs=1):
    return make_data(n_samples, 5, sines_and_sum(n_outputs), inputs="normal")


def initial_weights(units, seed):
    rng = np.random.RandomState(seed)
    coefs = [rng.uniform(-0.5, 0.5, (i, o)) for i, o in zip(units[:-1], units[1:])]
    intercepts = [rng.uniform(-0.5, 0.5, o) for o in units[1:]]
    return coefs, intercepts


def train_from(estimator, weights, X, y):
    """Build the network, set the weights, then train EPOCHS epochs from them."""
    estimator.set_params(max_iter=1, warm_start=True).fit(X, y)
    coefs, intercepts = weights
    estimator.coefs_ = [c.copy() for c in coefs]
    estimator.intercepts_ = [b.copy() for b in intercepts]
    n_before = len(estimator.loss_curve_)
    estimator.set_params(max_iter=EPOCHS).fit(X, y)
    return estimator, estimator.loss_curve_[n_before:]


def assert_same_training(fast, fast_curve, reference, reference_curve):
    assert len(fast_curve) == len(reference_curve) == EPOCHS
    assert_allclose(fast_curve, reference_curve, rtol=RTOL, atol=0)
    assert_weights_close(fast, reference, rtol=RTOL, atol=1e-14)
    assert fast.t_ == reference.t_


CASES = {
    "sgd": dict(solver="sgd", momentum=0.0, learning_rate_init=0.05),
    "sgd-momentum": dict(
        solver="sgd", momentum=0.9, nesterovs_momentum=False, learning_rate_init=0.01
    ),
    "sgd-nesterov": dict(
        solver="sgd", momentum=0.9, nesterovs_momentum=True, learning_rate_init=0.01
    ),
    "adam": dict(solver="adam", learning_rate_init=0.01),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("n_outputs", [1, 3, 6])
def test_same_weights_as_mlpregressor(case, activation, n_outputs):
    """Each solver and hidden activation, alpha > 0, batch not dividing n.

    1 and 3 outputs take the loop path of narrow output layers, 6 BLAS.
    """
    X, y = normal_data(n_outputs=n_outputs)
    params = dict(
        hidden_layer_sizes=(7, 4),
        activation=activation,
        alpha=1e-3,
        batch_size=20,
        shuffle=False,
        **CASES[case],
    )
    weights = initial_weights([X.shape[1], 7, 4, n_outputs], seed=1)
    fast, fast_curve = train_from(BackpropRegressor(**params), weights, X, y)
    ref, ref_curve = train_from(MLPRegressor(**params), weights, X, y)
    assert_same_training(fast, fast_curve, ref, ref_curve)


@pytest.mark.parametrize("hidden_layer_sizes", [(), (12,), (64, 80)])
def test_same_initialisation_and_shuffling(hidden_layer_sizes):
    """The same random_state draws the same weights and the same batches.

    The (64, 80) network also runs fastbp's BLAS path.
    """
    X, y = normal_data(250)
    params = dict(
        hidden_layer_sizes=hidden_layer_sizes,
        random_state=3,
        max_iter=EPOCHS,
        batch_size=64,
    )
    fast = BackpropRegressor(**params).fit(X, y)
    ref = MLPRegressor(**params).fit(X, y)
    assert_same_training(fast, fast.loss_curve_, ref, ref.loss_curve_)
    assert_allclose(fast.predict(X), ref.predict(X), rtol=RTOL, atol=1e-12)


def test_same_stopping_on_training_loss():
    """tol and n_iter_no_change stop training at the same epoch."""
    X, y = normal_data()
    params = dict(
        hidden_layer_sizes=(10,),
        solver="sgd",
        learning_rate_init=0.001,
        tol=0.01,
        n_iter_no_change=2,
        random_state=0,
        max_iter=200,
    )
    fast = BackpropRegressor(**params).fit(X, y)
    ref = MLPRegressor(**params).fit(X, y)
    assert fast.n_iter_ == ref.n_iter_ < 200
    assert_allclose(fast.loss_curve_, ref.loss_curve_, rtol=RTOL)
    assert fast.best_loss_ == pytest.approx(ref.best_loss_, rel=RTOL)


def test_same_partial_fit():
    """Consecutive partial_fit calls keep the optimizer state, as scikit-learn."""
    X, y = normal_data()
    params = dict(hidden_layer_sizes=(8,), random_state=0, learning_rate_init=0.01)
    fast, ref = BackpropRegressor(**params), MLPRegressor(**params)
    for start in (0, 40, 0):
        fast.partial_fit(X[start : start + 60], y[start : start + 60])
        ref.partial_fit(X[start : start + 60], y[start : start + 60])
    assert fast.n_iter_ == ref.n_iter_ == 1
    assert_allclose(fast.loss_curve_, ref.loss_curve_, rtol=RTOL)
    assert_weights_close(fast, ref, rtol=RTOL, atol=1e-14)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
def test_float32_close_to_mlpregressor(solver, activation):
    """float32 training stays float32 and follows scikit-learn's float32 run
    (20 epochs of 8 batches: differences stay at float32's rounding level)."""
    X, y = normal_data()
    X, y = X.astype(np.float32), y.astype(np.float32)
    params = dict(
        hidden_layer_sizes=(16, 8), activation=activation, solver=solver,
        batch_size=32, random_state=0, max_iter=20, tol=0.0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fast = BackpropRegressor(**params).fit(X, y)
        ref = MLPRegressor(**params).fit(X, y)
    assert all(c.dtype == np.float32 for c in weights(fast))
    for ours, theirs in zip(weights(fast), weights(ref)):
        assert np.max(np.abs(ours - theirs)) <= 1e-5 * np.max(np.abs(theirs))


@pytest.mark.parametrize(
    "schedule",
    [
        dict(learning_rate="invscaling", power_t=0.3, learning_rate_init=0.05),
        dict(learning_rate="adaptive", tol=0.05, n_iter_no_change=2),
    ],
)
def test_same_learning_rate_schedules(schedule):
    """'invscaling' and 'adaptive' change the step size as scikit-learn's."""
    X, y = normal_data(150)
    params = dict(
        hidden_layer_sizes=(10,), solver="sgd", random_state=0, max_iter=40, **schedule
    )
    fast = BackpropRegressor(**params).fit(X, y)
    ref = MLPRegressor(**params).fit(X, y)
    assert fast.n_iter_ == ref.n_iter_
    assert_allclose(fast.loss_curve_, ref.loss_curve_, rtol=RTOL)
    assert fast._learning_rate == pytest.approx(ref._optimizer.learning_rate, rel=1e-12)
    assert_weights_close(fast, ref, rtol=RTOL, atol=1e-14)


@pytest.mark.parametrize("weighted", [False, True])
def test_same_early_stopping(weighted):
    """Same validation split, scores, stopping epoch and restored weights."""
    X, y = normal_data(200, n_outputs=2)
    sample_weight = np.random.RandomState(5).uniform(0.5, 2, 200) if weighted else None
    params = dict(
        hidden_layer_sizes=(12,),
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=3,
        tol=1e-3,
        random_state=1,
        max_iter=100,
        learning_rate_init=0.01,
    )
    fast = BackpropRegressor(**params).fit(X, y, sample_weight=sample_weight)
    ref = MLPRegressor(**params).fit(X, y, sample_weight=sample_weight)
    assert fast.n_iter_ == ref.n_iter_ < 100
    assert_allclose(fast.validation_scores_, ref.validation_scores_, rtol=RTOL)
    assert fast.best_validation_score_ == pytest.approx(
        ref.best_validation_score_, rel=RTOL
    )
    assert_weights_close(fast, ref, rtol=RTOL, atol=1e-14)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_same_lbfgs_for_one_output(activation):
    """For one output the objective is scikit-learn's: the same iterates."""
    X, y = normal_data(120)
    params = dict(
        hidden_layer_sizes=(8,),
        activation=activation,
        solver="lbfgs",
        alpha=1e-3,
        random_state=0,
        max_iter=25,
    )
    fast = BackpropRegressor(**params).fit(X, y)
    ref = MLPRegressor(**params).fit(X, y)
    assert fast.n_iter_ == ref.n_iter_
    assert fast.loss_ == pytest.approx(ref.loss_, rel=1e-7)
    assert_weights_close(fast, ref, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("case", ["sgd-nesterov", "adam"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_same_poisson_regression(case, n_outputs):
    """loss='poisson': exponential output, half deviance, as scikit-learn."""
    X, _ = normal_data(n_outputs=n_outputs)
    rng = np.random.RandomState(2)
    y = rng.poisson(np.exp(0.5 * X[:, :n_outputs]))
    y = y.ravel() if n_outputs == 1 else y
    params = dict(
        hidden_layer_sizes=(6,),
        loss="poisson",
        alpha=1e-3,
        batch_size=20,
        shuffle=False,
        **CASES[case],
    )
    weights = initial_weights([X.shape[1], 6, n_outputs], seed=4)
    fast, fast_curve = train_from(BackpropRegressor(**params), weights, X, y)
    ref, ref_curve = train_from(MLPRegressor(**params), weights, X, y)
    assert fast.out_activation_ == ref.out_activation_ == "exp"
    assert_same_training(fast, fast_curve, ref, ref_curve)


@pytest.mark.parametrize("case", ["sgd-momentum", "adam"])
def test_same_weighted_training(case):
    """sample_weight: weighted mean loss, L2 term over the batch's weight sum."""
    X, y = normal_data(n_outputs=2)
    sample_weight = np.random.RandomState(3).uniform(0.0, 3.0, len(X))
    params = dict(
        hidden_layer_sizes=(7,),
        alpha=1e-2,
        batch_size=16,
        random_state=0,
        max_iter=EPOCHS,
        **CASES[case],
    )
    fast = BackpropRegressor(**params).fit(X, y, sample_weight=sample_weight)
    ref = MLPRegressor(**params).fit(X, y, sample_weight=sample_weight)
    assert_same_training(fast, fast.loss_curve_, ref, ref.loss_curve_)
    assert fast.score(X, y, sample_weight) == pytest.approx(
        ref.score(X, y, sample_weight), rel=1e-9
    )


def test_zero_weight_batch_is_skipped_where_scikit_learn_fails():
    """A mini-batch whose weights are all zero contributes nothing."""
    X, y = normal_data(40)
    sample_weight = np.r_[np.ones(20), np.zeros(10), np.ones(10)]
    params = dict(
        hidden_layer_sizes=(5,),
        batch_size=10,
        shuffle=False,
        random_state=0,
        max_iter=3,
        solver="sgd",
    )
    with pytest.raises(ZeroDivisionError):
        MLPRegressor(**params).fit(X, y, sample_weight=sample_weight)
    fast = BackpropRegressor(**params).fit(X, y, sample_weight=sample_weight)
    keep = sample_weight > 0
    # Without the zero-weight batch: the same steps on the other batches.
    without = BackpropRegressor(**params).fit(X[keep], y[keep])
    assert_weights_close(fast, without, rtol=1e-12, atol=0)
