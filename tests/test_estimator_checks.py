"""scikit-learn's own estimator checks, run on fastbp's estimators."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastbp import BackpropClassifier, BackpropRegressor

# The checks train for the default max_iter on tiny data sets, which does not
# converge; the warning saying so is expected.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks(
    [
        BackpropRegressor(),
        BackpropRegressor(
            (20, 10), "tanh", solver="sgd", momentum=0.5, learning_rate_init=0.01
        ),
        BackpropRegressor((20,), solver="lbfgs"),
        BackpropRegressor((20,), "elu", loss="huber"),
        BackpropClassifier(),
        BackpropClassifier((20, 10), "tanh", solver="sgd", learning_rate_init=0.01),
        BackpropClassifier(solver="lbfgs", max_iter=100),  # as scikit-learn checks MLPClassifier
        BackpropClassifier((20,), "elu"),
    ],
)
def test_sklearn_compatible_estimator(estimator, check):
    """Every check of scikit-learn's estimator API holds."""
    check(estimator)
