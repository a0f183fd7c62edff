"""What the tests share: data, weight comparisons, finite differences, and the
two estimators as one fixture.

Plain functions are imported with ``from conftest import ...``: pytest's
default ("prepend") import mode puts this folder on ``sys.path`` (as for
``naive``) and loads this file as the module ``conftest``, which the import
then finds.

The ``estimator`` fixture runs a test once for each estimator built on the
shared base (``fastbp._base``): what the base gives one, it gives both. Its
``targets`` turns a regression target into the estimator's own targets:
numbers for the regressor, string class labels for the classifier.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import loguniform
from sklearn.metrics import (
    accuracy_score,
    log_loss,
    mean_squared_error,
    r2_score,
)
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

from fastbp import BackpropClassifier, BackpropRegressor

# ------------------------------------------------------------------- data


def make_data(
    n_samples, n_features, target, *, inputs="uniform", seed=0, sample_weight=None
):
    """X of shape (n_samples, n_features) and its targets ``target(X)``.

    X is drawn from ``np.random.RandomState(seed)``: uniform in [-1, 1)
    (``inputs="uniform"``) or standard normal (``inputs="normal"``). With
    ``sample_weight=(low, high)``, sample weights uniform in [low, high) are
    drawn next from the same stream and returned third.
    """
    rng = np.random.RandomState(seed)
    if inputs == "uniform":
        X = rng.uniform(-1, 1, size=(n_samples, n_features))
    elif inputs == "normal":
        X = rng.normal(size=(n_samples, n_features))
    else:
        raise ValueError(f"inputs must be 'uniform' or 'normal', got {inputs!r}")
    if sample_weight is None:
        return X, target(X)
    return X, target(X), rng.uniform(*sample_weight, size=n_samples)


def sine_plus_linear(X):
    """``sin(2 x0) + x1``: one smooth output."""
    return np.sin(2 * X[:, 0]) + X[:, 1]


def sines(n_outputs):
    """Target with ``n_outputs`` outputs, ``sin(2 x_j)`` for feature j (cycling
    through the features); 1-D for one output."""

    def target(X):
        n_features = X.shape[1]
        Y = np.column_stack(
            [np.sin(2 * X[:, j % n_features]) for j in range(n_outputs)]
        )
        return Y.ravel() if n_outputs == 1 else Y

    return target


def with_value(array, index, value):
    """A float copy of ``array`` with ``value`` at ``index`` (e.g. a NaN)."""
    array = np.array(array, dtype=float)
    array[index] = value
    return array


# ----------------------------------------------------------------- weights


def weights(model):
    """A fitted model's ``coefs_ + intercepts_``."""
    return model.coefs_ + model.intercepts_


def assert_same_weights(model, reference):
    """Every weight and intercept of ``model`` is ``reference``'s, bit for
    bit and in the same dtype."""
    ours, theirs = weights(model), weights(reference)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype
        assert_array_equal(a, b)


def assert_weights_close(model, reference, rtol, atol):
    """Every weight and intercept of ``model`` is ``reference``'s within
    ``rtol`` and ``atol``."""
    ours, theirs = weights(model), weights(reference)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert_allclose(a, b, rtol=rtol, atol=atol)


# ------------------------------------------------------- finite differences


def central_difference(f, x, h=1e-4):
    """Fourth-order central differences of ``f`` at ``x``, one coordinate at a
    time.

    ``f(x)`` returns the value, or for a piecewise smooth function a pair
    ``(value, piece)``, where ``piece`` names the smooth piece ``x`` lies on
    (e.g. the sign of every input of a ReLU). A coordinate whose stencil
    ``x +- h, x +- 2h`` leaves the piece of ``x`` (it crosses a kink, where
    there is no derivative to compare) is NaN.
    """

    def value_and_piece(x):
        result = f(x)
        return result if isinstance(result, tuple) else (result, None)

    here = value_and_piece(x)[1]
    grad = np.full_like(x, np.nan)
    for k in range(x.size):
        values = []
        for step in (2 * h, h, -h, -2 * h):
            x_k = x.copy()
            x_k[k] += step
            value, piece = value_and_piece(x_k)
            if piece != here:
                break
            values.append(value)
        else:
            grad[k] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (
                12 * h
            )
    return grad


# ------------------------------------------------------------------ threads


def blas_threads():
    """Number of threads of every BLAS library loaded, by its path."""
    return {
        p["filepath"]: p["num_threads"]
        for p in threadpool_info()
        if p["user_api"] == "blas"
    }


# --------------------------------------------------------------- estimators

LABELS = np.array(["low", "mid", "high"])

# scikit-learn's scorer name: the same score computed by hand.
SCORES = {
    "r2": lambda model, X, y: r2_score(y, model.predict(X)),
    "neg_mean_squared_error": lambda model, X, y: (
        -mean_squared_error(y, model.predict(X))
    ),
    "accuracy": lambda model, X, y: accuracy_score(y, model.predict(X)),
    "neg_log_loss": lambda model, X, y: (
        -log_loss(y, model.predict_proba(X), labels=model.classes_)
    ),
}


def labels_of(y):
    """Three balanced string labels of a regression target (its first column
    if it has several): 'low', 'mid', 'high' by its terciles."""
    y = np.asarray(y, dtype=float)
    y = y[:, 0] if y.ndim == 2 else y
    return LABELS[np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))]


class EstimatorCase:
    """One of fastbp's estimators, as the tests of shared behaviour use it.

    Attributes
    ----------
    cls : type
        The estimator class.
    sklearn_cls : type
        scikit-learn's estimator with the same parameters and arithmetic.
    outputs : str
        The method that returns the network's outputs as numbers:
        ``predict`` or ``predict_proba``.
    targets : callable
        The estimator's targets for a regression target ``y``.
    scoring : tuple of str
        scikit-learn scorers: that of ``score``, then another (``SCORES``
        computes each by hand).
    smooth_scoring : str
        A scorer that changes with every change of the weights.
    score_function : callable
        The metric of ``score``, as ``metric(y_true, y_pred, sample_weight=)``.
    trusted_types : list of str
        The types skops is to trust when loading a file of the estimator.
    """

    def __init__(self, name, cls, sklearn_cls, outputs, targets, scoring,
                 smooth_scoring, score_function, trusted_types):  # fmt: skip
        self.name, self.cls, self.sklearn_cls = name, cls, sklearn_cls
        self.outputs, self.targets = outputs, targets
        self.scoring, self.smooth_scoring = scoring, smooth_scoring
        self.score_function = score_function
        self.trusted_types = trusted_types

    def __repr__(self):
        return self.name

    @property
    def step_name(self):
        """The estimator's step name in ``make_pipeline``."""
        return self.cls.__name__.lower()

    def make_data(self, *args, **kwargs):
        """``make_data``, with the targets made the estimator's."""
        X, y, *rest = make_data(*args, **kwargs)
        return (X, self.targets(y), *rest)

    def partial_fit_params(self, y):
        """What a first ``partial_fit`` call on targets ``y`` needs besides
        the data: the classes, for a classifier."""
        return {"classes": np.unique(y)} if self.cls is BackpropClassifier else {}


ESTIMATORS = {
    "regressor": EstimatorCase(
        "regressor",
        BackpropRegressor,
        MLPRegressor,
        outputs="predict",
        targets=lambda y: y,
        scoring=("r2", "neg_mean_squared_error"),
        smooth_scoring="r2",
        score_function=r2_score,
        trusted_types=["fastbp._regressor.BackpropRegressor"],
    ),
    "classifier": EstimatorCase(
        "classifier",
        BackpropClassifier,
        MLPClassifier,
        outputs="predict_proba",
        targets=labels_of,
        scoring=("accuracy", "neg_log_loss"),
        smooth_scoring="neg_log_loss",
        score_function=accuracy_score,
        trusted_types=["fastbp._classifier.BackpropClassifier"],
    ),
}


def make_search(estimator, kind="grid", n_jobs=None):
    """A 3-fold search over a pipeline (StandardScaler, a small network): a
    grid of four candidates, or four random draws (``kind="random"``)."""
    step = estimator.step_name
    model = estimator.cls((8,), max_iter=30, random_state=0)
    pipeline = make_pipeline(StandardScaler(), model)
    if kind == "grid":
        grid = {
            f"{step}__alpha": [1e-4, 1e-1],
            f"{step}__hidden_layer_sizes": [(4,), (8,)],
        }
        return GridSearchCV(pipeline, grid, cv=3, n_jobs=n_jobs)
    space = {
        f"{step}__alpha": loguniform(1e-5, 1.0),
        f"{step}__learning_rate_init": loguniform(1e-3, 1e-1),
    }
    return RandomizedSearchCV(
        pipeline, space, n_iter=4, cv=3, n_jobs=n_jobs, random_state=0
    )


@pytest.fixture(params=sorted(ESTIMATORS))
def estimator(request):
    """Each estimator in turn (an ``EstimatorCase``)."""
    return ESTIMATORS[request.param]
