"""sample_weight routed to fastbp through scikit-learn's metadata routing.

With ``enable_metadata_routing=True``, the estimator's ``set_fit_request``
and ``set_score_request`` say where a search or a cross-validation passes
``sample_weight``; every result is checked against fits and scores weighted
by hand on the same folds.
"""

import numpy as np
import pytest
from conftest import make_data
from numpy.testing import assert_array_equal
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FOLDS = KFold(n_splits=3, shuffle=True, random_state=0)


@pytest.fixture(autouse=True)
def metadata_routing():
    with config_context(enable_metadata_routing=True):
        yield


def two_regimes(X):
    return np.where(X[:, 0] > 0, np.sin(3 * X[:, 1]), X[:, 2])


def weighted_data(estimator):
    """Two regimes of y; the weights favour one of them strongly."""
    X, y = make_data(150, 3, two_regimes)
    sample_weight = np.where(X[:, 0] > 0, 10.0, 0.1)
    return X, estimator.targets(y), sample_weight


def make_model(estimator):
    return estimator.cls((8,), max_iter=40, random_state=0)


def weighted_fold_scores(model, X, y, w):
    """Fit on each training fold with its weights, weighted R^2 on its test."""
    scores = []
    for train, test in FOLDS.split(X):
        fitted = clone(model).fit(X[train], y[train], sample_weight=w[train])
        scores.append(fitted.score(X[test], y[test], sample_weight=w[test]))
    return np.array(scores)


def test_grid_search_routes_sample_weight_to_fit_and_score(estimator):
    X, y, w = weighted_data(estimator)
    model = make_model(estimator).set_fit_request(sample_weight=True)
    model.set_score_request(sample_weight=True)
    search = GridSearchCV(model, {"alpha": [1e-4, 1e-1]}, cv=FOLDS)
    search.fit(X, y, sample_weight=w)

    assert len(search.cv_results_["params"]) == 2
    for candidate, params in enumerate(search.cv_results_["params"]):
        model = make_model(estimator).set_params(**params)
        by_hand = weighted_fold_scores(model, X, y, w)
        for split in range(3):
            score = search.cv_results_[f"split{split}_test_score"][candidate]
            assert score == by_hand[split]
    refit = make_model(estimator).set_params(**search.best_params_)
    refit.fit(X, y, sample_weight=w)
    assert_array_equal(search.best_estimator_.predict(X), refit.predict(X))
    # The weights changed the outcome: unweighted fits score otherwise.
    unweighted = make_model(estimator).fit(X, y)
    assert not np.array_equal(unweighted.predict(X), refit.predict(X))


def test_cross_validate_routes_sample_weight_to_fit_and_scorer(estimator):
    X, y, w = weighted_data(estimator)
    model = make_model(estimator).set_fit_request(sample_weight=True)
    scorer = make_scorer(estimator.score_function)
    scorer.set_score_request(sample_weight=True)
    results = cross_validate(
        model, X, y, cv=FOLDS, scoring=scorer, params={"sample_weight": w}
    )
    assert_array_equal(results["test_score"], weighted_fold_scores(model, X, y, w))


def test_sample_weight_without_a_request_is_refused(estimator):
    """Routing is explicit: weights the estimator did not ask for raise."""
    X, y, w = weighted_data(estimator)
    search = GridSearchCV(make_model(estimator), {"alpha": [1e-4]}, cv=FOLDS)
    with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
        search.fit(X, y, sample_weight=w)


def test_requests_can_decline_sample_weight(estimator):
    """set_fit_request(sample_weight=False): the fits are unweighted, the
    scores still weighted."""
    X, y, w = weighted_data(estimator)
    model = make_model(estimator).set_fit_request(sample_weight=False)
    model.set_score_request(sample_weight=True)
    search = GridSearchCV(model, {"alpha": [1e-4]}, cv=FOLDS)
    search.fit(X, y, sample_weight=w)
    for split, (train, test) in enumerate(FOLDS.split(X)):
        fitted = make_model(estimator).fit(X[train], y[train])
        score = fitted.score(X[test], y[test], sample_weight=w[test])
        assert search.cv_results_[f"split{split}_test_score"][0] == score
