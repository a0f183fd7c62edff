"""What ``__sklearn_tags__`` states is what the estimator does.

Each tag is read with scikit-learn's ``get_tags`` and checked against the
behaviour it describes, for both estimators where the shared base sets it.
Tags checked elsewhere: ``requires_fit`` (test_base: predict before fit),
``non_deterministic`` (test_determinism), ``regressor_tags.poor_score``
(scikit-learn's own checks score the model). scikit-learn has no tag for an
estimator keeping float32 (``preserves_dtype`` belongs to transformers);
test_base shows that both do.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import ESTIMATORS, make_data
from numpy.testing import assert_array_equal
from sklearn.neural_network import MLPClassifier
from sklearn.utils import get_tags

from fastbp._loss import LOSS_CODES

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X, Y = make_data(40, 3, lambda X: np.column_stack([X[:, 0], X[:, 1] * X[:, 2]]))


def small_model(estimator=ESTIMATORS["regressor"], **params):
    return estimator.cls((4,), max_iter=3, random_state=0, **params)


def test_targets_are_required(estimator):
    assert get_tags(small_model(estimator)).target_tags.required
    with pytest.raises(TypeError, match="y"):
        small_model(estimator).fit(X)


def test_regressor_targets_are_single_or_multi_output():
    tags = get_tags(small_model()).target_tags
    assert tags.single_output and tags.multi_output
    assert small_model().fit(X, Y[:, 0]).predict(X).shape == (40,)
    assert small_model().fit(X, Y).predict(X).shape == (40, 2)


def test_classifier_is_multi_label_and_predicts_label_indicators():
    """The tag says a label indicator y is accepted: predictions are an
    indicator matrix, as MLPClassifier's given the same weights."""
    model = small_model(ESTIMATORS["classifier"])
    assert get_tags(model).classifier_tags.multi_label is True
    assert get_tags(MLPClassifier()).classifier_tags.multi_label is True
    indicators = (Y > 0).astype(int)
    model.fit(X, indicators)
    reference = MLPClassifier((4,), max_iter=1, random_state=0).fit(X, indicators)
    reference.coefs_ = [c.copy() for c in model.coefs_]
    reference.intercepts_ = [b.copy() for b in model.intercepts_]
    assert_array_equal(model.predict(X), reference.predict(X))
    assert model.predict(X).shape == (40, 2)


@pytest.mark.parametrize("loss", sorted(LOSS_CODES))
def test_positive_only_targets_exactly_when_fit_refuses_negative_ones(loss):
    positive_only = get_tags(small_model(loss=loss)).target_tags.positive_only
    assert positive_only == (loss == "poisson")
    small_model(loss=loss).fit(X, np.abs(Y[:, 0]))
    if positive_only:
        with pytest.raises(ValueError, match="non-negative targets"):
            small_model(loss=loss).fit(X, Y[:, 0])
    else:
        small_model(loss=loss).fit(X, Y[:, 0])


def test_two_d_numeric_input_is_accepted(estimator):
    tags = get_tags(small_model(estimator)).input_tags
    assert tags.two_d_array and not tags.positive_only and not tags.pairwise
    small_model(estimator).fit(X - 5.0, estimator.targets(Y))  # negative input


@pytest.mark.parametrize(
    "tag, X_bad, error, message",
    [
        ("one_d_array", X[:, 0], ValueError, "2D array"),
        ("three_d_array", X[:, :, None], ValueError, "dim 3"),
        ("allow_nan", np.where(X > 0.9, np.nan, X), ValueError, "NaN"),
        ("string", np.full((40, 3), "Lyon", dtype=object), ValueError, "string"),
        (
            "categorical",
            pd.DataFrame({"city": pd.Categorical(["Lyon", "Oslo"] * 20)}),
            ValueError,
            "strings",
        ),
        ("dict", [{"a": 1.0}] * 40, TypeError, "dict"),
    ],
)
def test_input_the_tags_exclude_is_refused(estimator, tag, X_bad, error, message):
    assert getattr(get_tags(small_model(estimator)).input_tags, tag) is False
    with pytest.raises(error, match=message):
        small_model(estimator).fit(X_bad, estimator.targets(Y[:, 0]))


def test_sparse_tag_is_true_and_sparse_input_is_the_dense_array(estimator):
    """The tag says sparse X is accepted: fit and predict treat it as its
    dense array (see test_inputs.py for the formats and the memory guard)."""
    assert get_tags(small_model(estimator)).input_tags.sparse is True
    y = estimator.targets(Y)
    model = small_model(estimator).fit(sp.csr_matrix(X), y)
    reference = small_model(estimator).fit(X, y)
    assert_array_equal(model.predict(sp.csr_matrix(X)), reference.predict(X))
