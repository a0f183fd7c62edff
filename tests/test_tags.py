"""What ``__sklearn_tags__`` states is what the estimator does.

Each tag is read with scikit-learn's ``get_tags`` and checked against the
behaviour it describes. Tags checked elsewhere: ``requires_fit``
(test_regressor: predict before fit), ``non_deterministic`` (test_determinism),
``regressor_tags.poor_score`` (scikit-learn's own checks score the model).
scikit-learn has no tag for a regressor keeping float32 (``preserves_dtype``
belongs to transformers); test_regressor shows that it does.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.utils import get_tags

from fastbp import BackpropRegressor
from fastbp._loss import LOSS_CODES

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.RandomState(0)
X = RNG.uniform(-1, 1, size=(40, 3))
Y = np.column_stack([X[:, 0], X[:, 1] * X[:, 2]])


def small_model(**params):
    return BackpropRegressor((4,), max_iter=3, random_state=0, **params)


def test_targets_are_required_single_or_multi_output():
    tags = get_tags(small_model()).target_tags
    assert tags.required and tags.single_output and tags.multi_output
    assert small_model().fit(X, Y[:, 0]).predict(X).shape == (40,)
    assert small_model().fit(X, Y).predict(X).shape == (40, 2)
    with pytest.raises(TypeError, match="y"):
        small_model().fit(X)


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


def test_two_d_numeric_input_is_accepted():
    tags = get_tags(small_model()).input_tags
    assert tags.two_d_array and not tags.positive_only and not tags.pairwise
    small_model().fit(X - 5.0, Y)  # negative input is fine


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
def test_input_the_tags_exclude_is_refused(tag, X_bad, error, message):
    assert getattr(get_tags(small_model()).input_tags, tag) is False
    with pytest.raises(error, match=message):
        small_model().fit(X_bad, Y[:, 0])


def test_sparse_tag_is_true_and_sparse_input_is_the_dense_array():
    """The tag says sparse X is accepted: fit and predict treat it as its
    dense array (see test_inputs.py for the formats and the memory guard)."""
    assert get_tags(small_model()).input_tags.sparse is True
    model = small_model().fit(sp.csr_matrix(X), Y)
    reference = small_model().fit(X, Y)
    np.testing.assert_array_equal(model.predict(sp.csr_matrix(X)), reference.predict(X))
