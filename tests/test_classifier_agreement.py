"""From the same random_state, BackpropClassifier computes MLPClassifier's weights.

Both estimators draw the same initial weights and see the same mini-batches;
for two classes (one logistic unit), four (softmax) and a multilabel
indicator y (one logistic unit per label), with and without sample_weight,
their weights and loss curves agree to a relative 1e-9 for 'sgd' and 'adam'
and 1e-6 for 'lbfgs' in float64, and closely in float32, where fastbp's
'lbfgs' stays float32 (scikit-learn's returns float64). Early stopping holds
out the same split, records the same scores and keeps the same epoch, and
partial_fit follows MLPClassifier call for call.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from conftest import assert_weights_close, weights

from fastbp import BackpropClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

KINDS = ["binary", "multiclass", "multilabel"]
SOLVERS = ["sgd", "adam", "lbfgs"]
RTOL = {"sgd": 1e-9, "adam": 1e-9, "lbfgs": 1e-6}
ATOL = {"sgd": 1e-14, "adam": 1e-14, "lbfgs": 1e-8}


def make_data(kind, n_samples=150, n_features=6, seed=0):
    """X and labels: 2 classes, 4 classes, or a 3-label indicator matrix."""
    if kind == "multilabel":
        X, y = make_multilabel_classification(
            n_samples=n_samples, n_features=n_features, n_classes=3, random_state=seed
        )
        return X / X.std(axis=0), y
    return make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=4,
        n_classes=2 if kind == "binary" else 4,
        random_state=seed,
    )


def sample_weight_for(y, weighted, seed=1):
    if not weighted:
        return None
    return np.random.RandomState(seed).uniform(0.2, 2.0, len(y))


def fit_both(X, y, solver, sample_weight):
    """fastbp's and scikit-learn's classifiers fitted with the same settings."""
    params = dict(
        hidden_layer_sizes=(7, 4), solver=solver, alpha=1e-3, batch_size=32,
        learning_rate_init=0.01, max_iter=8, random_state=0,
    )  # fmt: skip
    fast = BackpropClassifier(**params).fit(X, y, sample_weight=sample_weight)
    reference = MLPClassifier(**params).fit(X, y, sample_weight=sample_weight)
    return fast, reference


def glorot_draws(units, activation, seed):
    """scikit-learn's initial weights, drawn in plain NumPy."""
    rng = np.random.RandomState(seed)
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rng.uniform(-bound, bound, fan_out))
    return coefs + intercepts, rng


# --------------------------------------------------------- initial weights


@pytest.mark.parametrize("activation", ["relu", "logistic"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_random_state_draws_the_same_initial_weights(activation, kind, dtype):
    """A step of 1e-300 leaves the initial weights as they were drawn: those
    of a plain-NumPy Glorot draw, and MLPClassifier's."""
    X, y = make_data(kind)
    X = X.astype(dtype)
    params = dict(
        hidden_layer_sizes=(7, 4), activation=activation, solver="sgd",
        momentum=0.0, learning_rate_init=1e-300, max_iter=1, random_state=3,
    )  # fmt: skip
    fast = BackpropClassifier(**params).fit(X, y)
    reference = MLPClassifier(**params).fit(X, y)
    n_outputs = 1 if kind == "binary" else (3 if kind == "multilabel" else 4)
    expected, _ = glorot_draws([X.shape[1], 7, 4, n_outputs], activation, seed=3)
    for ours, theirs, drawn in zip(weights(fast), weights(reference), expected):
        assert ours.dtype == dtype
        assert_array_equal(ours, drawn.astype(dtype))
        assert_array_equal(ours, theirs)


# --------------------------------------------------------------- training


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_same_training_as_mlpclassifier(solver, kind, weighted):
    """float64: the same weights, loss curve, loss and epochs."""
    X, y = make_data(kind)
    fast, reference = fit_both(X, y, solver, sample_weight_for(y, weighted))
    assert fast.out_activation_ == reference.out_activation_
    assert fast.n_iter_ == reference.n_iter_
    assert_weights_close(fast, reference, RTOL[solver], ATOL[solver])
    assert fast.loss_ == pytest.approx(reference.loss_, rel=RTOL[solver])
    if solver != "lbfgs":  # scikit-learn keeps no loss curve for L-BFGS
        assert_allclose(fast.loss_curve_, reference.loss_curve_, rtol=RTOL[solver])
        assert fast.t_ == reference.t_


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_float32_training_stays_float32_close_to_mlpclassifier(
    solver, kind, weighted
):
    """float32 weights for every solver (scikit-learn's L-BFGS returns float64),
    within 1e-4 of the largest weight of scikit-learn's."""
    X, y = make_data(kind)
    X = X.astype(np.float32)
    fast, reference = fit_both(X, y, solver, sample_weight_for(y, weighted))
    expected_reference = np.float64 if solver == "lbfgs" else np.float32
    assert all(w.dtype == np.float32 for w in weights(fast))
    assert all(w.dtype == expected_reference for w in weights(reference))
    for ours, theirs in zip(weights(fast), weights(reference), strict=True):
        assert np.max(np.abs(ours - theirs)) <= 1e-4 * np.max(np.abs(theirs))
    if solver != "lbfgs":
        assert_allclose(fast.loss_curve_, reference.loss_curve_, rtol=1e-5)
    assert fast.predict_proba(X).dtype == np.float32


# ---------------------------------------------------------- early stopping

EARLY_STOPPING = dict(
    hidden_layer_sizes=(8,),
    early_stopping=True,
    validation_fraction=0.25,
    n_iter_no_change=4,
    tol=1e-3,
    learning_rate_init=0.02,
    random_state=2,
    max_iter=200,
)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_same_early_stopping_as_mlpclassifier(solver, kind, weighted):
    """Same held-out split, validation scores, stopping epoch and best weights."""
    X, y = make_data(kind, n_samples=200)
    sample_weight = sample_weight_for(y, weighted)
    params = dict(EARLY_STOPPING, solver=solver)
    fast = BackpropClassifier(**params).fit(X, y, sample_weight=sample_weight)
    reference = MLPClassifier(**params).fit(X, y, sample_weight=sample_weight)
    assert fast.n_iter_ == reference.n_iter_ < params["max_iter"]
    assert_allclose(fast.validation_scores_, reference.validation_scores_, rtol=1e-12)
    assert fast.best_validation_score_ == reference.best_validation_score_
    assert fast.best_loss_ is None and reference.best_loss_ is None
    assert_weights_close(fast, reference, RTOL[solver], ATOL[solver])


def split_as_mlpclassifier(X, y, sample_weight, units, kind):
    """The training and validation parts, drawn from the random stream as
    scikit-learn does: after the initial weights, stratified for two classes."""
    _, rng = glorot_draws(units, "relu", seed=EARLY_STOPPING["random_state"])
    w = np.ones(len(X)) if sample_weight is None else sample_weight
    X_train, X_val, y_train, y_val, w_train, w_val = train_test_split(
        X, y, w,
        random_state=rng,
        test_size=EARLY_STOPPING["validation_fraction"],
        stratify=y if kind == "binary" else None,
    )  # fmt: skip
    return (X_train, y_train, w_train), (X_val, y_val, w_val)


def held_out_log_loss(model, X_val, y_val, w_val):
    proba = model.predict_proba(X_val)
    if y_val.ndim == 1:
        return log_loss(y_val, proba, sample_weight=w_val, labels=model.classes_)
    return sum(  # one binary log loss per label
        log_loss(y_val[:, j], proba[:, j], sample_weight=w_val, labels=[0, 1])
        for j in range(y_val.shape[1])
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_validation_loss_curve_is_log_loss_on_held_out_part(kind, weighted):
    """One value per epoch: the log loss (and the score, the accuracy) on the
    held-out rows of the network after that epoch, recomputed with
    sklearn.metrics from fits of k epochs on the training part alone
    (shuffle=False: the same mini-batches)."""
    X, y = make_data(kind, n_samples=200)
    sample_weight = sample_weight_for(y, weighted)
    params = dict(EARLY_STOPPING, shuffle=False)
    model = BackpropClassifier(**params).fit(X, y, sample_weight=sample_weight)
    scores, losses = model.validation_scores_, model.validation_loss_curve_
    assert len(losses) == len(scores) == model.n_iter_ == len(model.loss_curve_)
    units = [X.shape[1], *params["hidden_layer_sizes"], model.n_outputs_]
    train, (X_val, y_val, w_val) = split_as_mlpclassifier(
        X, y, sample_weight, units, kind
    )
    for epoch in range(1, model.n_iter_ + 1):
        params.update(early_stopping=False, n_iter_no_change=np.inf, max_iter=epoch)
        after = BackpropClassifier(**params).fit(*train)
        assert losses[epoch - 1] == pytest.approx(
            held_out_log_loss(after, X_val, y_val, w_val), rel=1e-12
        )
        assert scores[epoch - 1] == pytest.approx(
            accuracy_score(y_val, after.predict(X_val), sample_weight=w_val),
            rel=1e-12,
        )


# -------------------------------------------------------------- partial_fit


def batches_with_a_missing_class(X, y):
    """Three batches; the second lacks the last class (or label)."""
    lacks = ~y[:, -1].astype(bool) if y.ndim == 2 else y != np.unique(y)[-1]
    X_lacking, y_lacking = X[lacks][:40], y[lacks][:40]
    return [(X[:50], y[:50]), (X_lacking, y_lacking), (X[50:], y[50:])]


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_partial_fit_as_mlpclassifier(solver, kind, dtype):
    """Call for call: classes on the first call only, a batch lacking a class."""
    X, y = make_data(kind)
    X = X.astype(dtype)
    params = dict(
        hidden_layer_sizes=(6,), solver=solver, batch_size=16,
        learning_rate_init=0.01, random_state=0,
    )  # fmt: skip
    fast, reference = BackpropClassifier(**params), MLPClassifier(**params)
    classes = np.arange(y.shape[1]) if y.ndim == 2 else np.unique(y)[::-1]
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    for call, (X_batch, y_batch) in enumerate(batches_with_a_missing_class(X, y)):
        options = {"classes": classes} if call == 0 else {}
        fast.partial_fit(X_batch, y_batch, **options)
        reference.partial_fit(X_batch, y_batch, **options)
        assert fast.n_iter_ == reference.n_iter_ == 1
        assert fast.t_ == reference.t_
        assert_allclose(fast.loss_curve_, reference.loss_curve_, rtol=rtol)
        for ours, theirs in zip(weights(fast), weights(reference)):
            assert ours.dtype == dtype
            scale = np.max(np.abs(theirs))
            assert_allclose(ours, theirs, rtol=rtol, atol=rtol * 1e-3 * scale)
    assert_array_equal(fast.classes_, reference.classes_)
