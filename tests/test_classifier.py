"""BackpropClassifier: labels, probabilities, class_weight, partial_fit's classes,
refused targets and divergence with early stopping.

Each behaviour is checked against an independent reference: scikit-learn's
MLPClassifier given the same weights, sklearn.metrics, compute_sample_weight,
or the plain-NumPy network of ``naive``. How training agrees with
MLPClassifier is in ``test_classifier_agreement``.
"""

import warnings

import dask.array as da
import naive
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import log_expit, log_softmax, logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.neural_network import MLPClassifier
from sklearn.utils.class_weight import compute_sample_weight
from conftest import assert_same_weights, assert_weights_close
from test_classifier_agreement import KINDS, make_data

from fastbp import BackpropClassifier, partial_fit_blocks

SOLVERS = ["sgd", "adam", "lbfgs"]
DTYPES = [np.float64, np.float32]


def fit_quietly(model, X, y, **fit_params):
    """Fit a few epochs, silencing the expected ConvergenceWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **fit_params)


def fitted_pair(X, y, **params):
    """BackpropClassifier and an MLPClassifier holding copies of its weights."""
    params = {"hidden_layer_sizes": (6,), "random_state": 0, "max_iter": 30, **params}
    fast = fit_quietly(BackpropClassifier(**params), X, y)
    reference = fit_quietly(MLPClassifier(**params), X, y)
    reference.coefs_ = [c.copy() for c in fast.coefs_]
    reference.intercepts_ = [b.copy() for b in fast.intercepts_]
    return fast, reference


def logits(model, X):
    """The output layer's pre-activation, computed in plain NumPy."""
    names = [model.activation] * (model.n_layers_ - 2) + ["identity"]
    return naive.forward(model.coefs_, model.intercepts_, names, X)[-1]


# ------------------------------------------------------------------ labels

LABEL_KINDS = {
    "strings": lambda k: np.array(["pear", "apple", "fig"])[k],
    "unordered integers": lambda k: np.array([7, -2, 3])[k],
    "booleans": lambda k: k == 1,
    "categorical": lambda k: pd.Series(pd.Categorical(np.array(["z", "x", "y"])[k])),
}


@pytest.mark.parametrize("label_kind", LABEL_KINDS)
def test_labels_of_any_kind_sorted_and_predicted_in_their_kind(label_kind):
    """classes_ is the sorted labels; predict returns labels of y's dtype kind,
    those of MLPClassifier given the same weights."""
    X, codes = make_data("multiclass")
    y = LABEL_KINDS[label_kind](codes % 2 if label_kind == "booleans" else codes % 3)
    fast, reference = fitted_pair(X, y)
    labels = np.asarray(y)
    assert_array_equal(fast.classes_, np.unique(labels))
    predicted = fast.predict(X)
    assert_array_equal(predicted, reference.predict(X))
    assert predicted.dtype.kind == reference.predict(X).dtype.kind
    if label_kind != "categorical":  # a Series of categories is object-typed
        assert predicted.dtype.kind == labels.dtype.kind
    assert set(predicted) <= set(labels)


def test_multilabel_y_predicts_an_indicator_matrix():
    X, y = make_data("multilabel")
    fast, reference = fitted_pair(X, y)
    predicted = fast.predict(X)
    assert predicted.shape == y.shape
    assert set(np.unique(predicted)) <= {0, 1}
    assert_array_equal(predicted, reference.predict(X))
    assert_array_equal(predicted, (logits(fast, X) > 0).astype(int))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_score_is_accuracy_score(kind, weighted):
    X, y = make_data(kind)
    sample_weight = np.random.RandomState(4).uniform(0, 3, len(X)) if weighted else None
    fast, _ = fitted_pair(X, y, max_iter=5)
    expected = accuracy_score(y, fast.predict(X), sample_weight=sample_weight)
    assert fast.score(X, y, sample_weight=sample_weight) == pytest.approx(expected)
    assert 0 < expected < 1


# ------------------------------------------------------------ probabilities


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_predict_proba_is_mlpclassifiers_on_the_same_weights(kind, dtype):
    """One column per class (two for two classes: [1 - p, p]) or per label;
    rows of one label per sample sum to 1."""
    X, y = make_data(kind)
    X = X.astype(dtype)
    fast, reference = fitted_pair(X, y)
    proba = fast.predict_proba(X)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    n_columns = {"binary": 2, "multiclass": len(np.unique(y))}.get(kind, y.shape[-1])
    assert proba.dtype == dtype
    assert proba.shape == (len(X), n_columns)
    assert_allclose(proba, reference.predict_proba(X), rtol=rtol, atol=rtol * 1e-3)
    if kind == "binary":
        p = 1 / (1 + np.exp(-logits(fast, X).astype(np.float64)))
        assert_allclose(proba, np.hstack([1 - p, p]), rtol=rtol, atol=rtol * 1e-3)
    if kind != "multilabel":
        assert_allclose(proba.sum(axis=1), 1, rtol=rtol)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_predict_log_proba_is_log_of_predict_proba(kind, dtype):
    X, y = make_data(kind)
    X = X.astype(dtype)
    fast, _ = fitted_pair(X, y)
    proba = fast.predict_proba(X)
    not_tiny = proba > 1e-3
    assert not_tiny.mean() > 0.5
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    assert_allclose(
        fast.predict_log_proba(X)[not_tiny], np.log(proba[not_tiny]), rtol=rtol
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_predict_log_proba_stays_finite_far_from_training_data(kind, dtype):
    """At X * 1e6 scikit-learn's log probabilities are -inf; fastbp's are the
    log-softmax (log-sigmoid) of the logits, floored at the log of the dtype's
    smallest positive number."""
    X, y = make_data(kind)
    X = X.astype(dtype)
    fast, reference = fitted_pair(X, y)
    far = X * dtype(1e6)
    with np.errstate(divide="ignore"):
        assert np.isneginf(reference.predict_log_proba(far)).any()
    log_proba = fast.predict_log_proba(far)
    assert log_proba.dtype == dtype
    assert np.isfinite(log_proba).all() and (log_proba <= 0).all()
    Z = logits(fast, far).astype(np.float64)
    if kind == "multiclass":
        expected = log_softmax(Z, axis=1)
        assert_allclose(logsumexp(log_proba.astype(np.float64), axis=1), 0, atol=1e-6)
    elif kind == "binary":
        expected = np.hstack([log_expit(-Z), log_expit(Z)])
    else:
        expected = log_expit(Z)
    floor = np.log(np.nextafter(dtype(0), dtype(1)))
    assert (expected < floor).any()  # some are floored
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    assert_allclose(log_proba, np.maximum(expected, floor), rtol=rtol, atol=rtol)


# ------------------------------------------------------------- class_weight


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("class_weight", ["balanced", {"pear": 0.5, "fig": 3.0}])
@pytest.mark.parametrize("weighted", [False, True])
def test_class_weight_is_compute_sample_weight(solver, class_weight, weighted):
    """Bit for bit the weights of a fit with sample_weight multiplied by
    compute_sample_weight(class_weight, y)."""
    X, codes = make_data("multiclass")
    y = np.array(["pear", "apple", "fig", "fig"])[codes]  # unbalanced classes
    rng = np.random.RandomState(4)
    sample_weight = rng.uniform(0.5, 2, len(X)) if weighted else None
    params = dict(hidden_layer_sizes=(6,), solver=solver, random_state=0, max_iter=10)
    weighted_classes = fit_quietly(
        BackpropClassifier(class_weight=class_weight, **params),
        X, y, sample_weight=sample_weight,
    )  # fmt: skip
    expected_weights = compute_sample_weight(class_weight, y) * (
        1.0 if sample_weight is None else sample_weight
    )
    assert len(np.unique(expected_weights)) > 1
    reference = fit_quietly(
        BackpropClassifier(**params), X, y, sample_weight=expected_weights
    )
    assert_same_weights(weighted_classes, reference)


def test_class_weight_naming_an_unknown_class_is_refused():
    X, codes = make_data("multiclass")
    y = np.array(["pear", "apple", "fig", "fig"])[codes]
    model = BackpropClassifier((4,), class_weight={"pear": 2.0, "kiwi": 3.0})
    with pytest.raises(ValueError, match="kiwi"):
        model.fit(X, y)


# -------------------------------------------------------------- partial_fit


def test_partial_fit_requires_classes_on_the_first_call():
    X, y = make_data("multiclass")
    with pytest.raises(ValueError, match="classes"):
        BackpropClassifier((4,)).partial_fit(X, y)
    with pytest.raises(ValueError, match="classes"):
        MLPClassifier((4,)).partial_fit(X, y)


@pytest.mark.parametrize(
    "classes, unknown", [([7, -2, 3], 99), (["pear", "apple", "fig"], "kiwi")]
)
def test_partial_fit_refuses_a_label_outside_classes_naming_it(classes, unknown):
    X, codes = make_data("multiclass")
    y = np.array(classes)[codes % 3]
    model = BackpropClassifier((4,), random_state=0).partial_fit(X, y, classes=classes)
    weights_before = [c.copy() for c in model.coefs_]
    y_later = y[:10].copy()
    y_later[3] = unknown
    with pytest.raises(ValueError, match=str(unknown)):
        model.partial_fit(X[:10], y_later)
    for before, after in zip(weights_before, model.coefs_):
        assert_array_equal(before, after)


def test_no_partial_fit_with_lbfgs():
    assert not hasattr(BackpropClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    assert hasattr(BackpropClassifier(solver="sgd"), "partial_fit")


def test_partial_fit_blocks_passes_classes():
    """The first row block lacks a class: partial_fit_blocks(classes=...) equals
    the same partial_fit calls in memory, classes on every call."""
    X, codes = make_data("multiclass", n_samples=180)
    order = np.argsort(codes == 3, kind="stable")  # class 11 last
    X, y = X[order], np.array([7, -2, 3, 11])[codes[order]]
    rows = (40, 80, 60)
    assert 11 not in set(y[: rows[0]])
    classes = np.unique(y)
    params = dict(hidden_layer_sizes=(5,), batch_size=16, random_state=0)
    by_blocks = partial_fit_blocks(
        BackpropClassifier(**params),
        da.from_array(X, chunks=(rows, 6)),
        da.from_array(y, chunks=(rows,)),
        classes=classes,
        epochs=2,
    )
    in_memory = BackpropClassifier(**params)
    bounds = np.cumsum((0, *rows))
    for _ in range(2):
        for start, stop in zip(bounds[:-1], bounds[1:]):
            in_memory.partial_fit(X[start:stop], y[start:stop], classes=classes)
    assert_array_equal(by_blocks.classes_, classes)
    assert by_blocks.t_ == in_memory.t_ == 2 * len(X)
    assert_same_weights(by_blocks, in_memory)


# ------------------------------------------------------------ refused targets


def test_continuous_y_is_refused():
    X, y = make_data("binary")
    with pytest.raises(ValueError, match="Unknown label type|continuous"):
        BackpropClassifier((4,)).fit(X, y + 0.5)


@pytest.mark.parametrize(
    "missing",
    [
        np.array(["a", "b", None] * 50, dtype=object),
        np.array(["a", "b", np.nan] * 50, dtype=object),
        np.array([0.0, 1.0, np.nan] * 50),
    ],
    ids=["None", "NaN among strings", "NaN among numbers"],
)
def test_missing_labels_are_refused(missing):
    X, _ = make_data("binary")
    with pytest.raises(ValueError, match="missing"):
        BackpropClassifier((4,)).fit(X, missing)


def test_y_of_the_wrong_length_is_refused():
    X, y = make_data("binary")
    with pytest.raises(ValueError, match=f"{len(X)}, {len(X) - 1}"):
        BackpropClassifier((4,)).fit(X, y[:-1])


def test_warm_start_with_other_classes_is_refused():
    X, y = make_data("multiclass")
    model = fit_quietly(BackpropClassifier((4,), max_iter=2, warm_start=True), X, y)
    with pytest.raises(ValueError, match="warm_start"):
        model.fit(X, np.where(y == 3, 5, y))


def test_a_single_class_is_learned_and_predicted_as_mlpclassifier():
    X, _ = make_data("binary")
    y = np.full(len(X), "only")
    fast, reference = fitted_pair(X, y, max_iter=5)
    assert_array_equal(fast.classes_, ["only"])
    assert_array_equal(fast.predict(X), reference.predict(X))
    assert_array_equal(fast.predict(X), y)
    assert_allclose(fast.predict_proba(X), reference.predict_proba(X), rtol=1e-12)


# --------------------------------------------------------------- divergence

DIVERGING = dict(
    hidden_layer_sizes=(8,),
    solver="sgd",
    learning_rate_init=1e4,
    early_stopping=True,
    random_state=0,
    max_iter=50,
)


def diverging_data():
    X, y = make_data("binary", n_samples=200)
    return X * 1e10, y  # far from scaled: the weights overflow in a few epochs


def test_divergence_with_early_stopping_keeps_the_best_epoch():
    """scikit-learn issue #29504: a NaN score for the epoch that diverged, a
    ConvergenceWarning, and the best epoch's weights, those MLPClassifier
    restores."""
    X, y = diverging_data()
    with pytest.warns(ConvergenceWarning, match="diverged"):
        fast = BackpropClassifier(**DIVERGING).fit(X, y)
    last = fast.validation_scores_[-1]
    assert type(last) is float and np.isnan(last)
    assert len(fast.validation_scores_) == fast.n_iter_ < DIVERGING["max_iter"]
    assert fast.best_validation_score_ == np.nanmax(fast.validation_scores_)
    assert np.nanargmax(fast.validation_scores_) < fast.n_iter_ - 2  # not the last
    assert all(np.isfinite(w).all() for w in fast.coefs_ + fast.intercepts_)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = MLPClassifier(**DIVERGING).fit(X, y)
    finite_epochs = reference.validation_scores_[: fast.n_iter_ - 1]
    assert fast.validation_scores_[:-1] == finite_epochs
    assert_weights_close(fast, reference, rtol=1e-9, atol=0.0)


def test_divergence_without_early_stopping_raises():
    X, y = diverging_data()
    model = BackpropClassifier(**dict(DIVERGING, early_stopping=False))
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        model.fit(X, y)


def test_a_warm_start_refuses_another_kind_of_y():
    """One label per sample then a multilabel indicator (with the same
    label set), or the reverse: refused, naming both kinds."""
    X = np.random.RandomState(0).normal(size=(120, 4))
    three = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    indicator = np.c_[X[:, 0] > 0, X[:, 1] > 0, X[:, 2] > 0].astype(int)
    for first, second in [(three, indicator), (indicator, three)]:
        model = BackpropClassifier((5,), max_iter=2, warm_start=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, first)
        with pytest.raises(ValueError, match="multilabel-indicator"):
            model.fit(X, second)


@pytest.mark.parametrize("weight", [-1.0, np.nan, np.inf, "heavy"])
def test_class_weight_values_must_be_non_negative_finite_numbers(weight):
    X = np.random.RandomState(1).normal(size=(12, 3))
    model = BackpropClassifier((3,), class_weight={0: weight}, max_iter=5)
    with pytest.raises(ValueError, match="class_weight must give each class"):
        model.fit(X, [0, 1, 2] * 4)


def test_pandas_na_among_labels_is_a_missing_label():
    X = np.random.RandomState(2).normal(size=(6, 3))
    y = pd.Series(["a", "b", pd.NA, "a", "b", "a"], dtype="string")
    with pytest.raises(ValueError, match="missing labels.*position 2"):
        BackpropClassifier().fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # scikit-learn's overflows
def test_overflowing_validation_outputs_are_scored_as_scikit_learn():
    """Outputs that overflow on the held-out part still decode to labels,
    whose accuracy scikit-learn records (not NaN): the same scores and best
    weights until fastbp stops at the epoch whose weights diverge."""
    X = np.random.RandomState(3).normal(size=(200, 5)) * 1e150
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    params = dict(solver="sgd", early_stopping=True, random_state=0, max_iter=40,
                  learning_rate_init=0.5)  # fmt: skip
    fast = BackpropClassifier((10,), **params).fit(X, y)
    reference = MLPClassifier((10,), **params).fit(X, y)
    finite = np.isfinite(fast.validation_scores_)
    assert finite.sum() >= 1 and np.isnan(fast.validation_scores_[-1])
    n = int(finite.sum())
    assert_allclose(fast.validation_scores_[:n], reference.validation_scores_[:n])
    assert fast.best_validation_score_ == reference.best_validation_score_
    for ours, theirs in zip(fast.coefs_, reference.coefs_):
        assert_allclose(ours, theirs, rtol=1e-9)
