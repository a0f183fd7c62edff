"""What the shared base (fastbp._base) gives both estimators: parameter
validation, the fitted state and its flat buffer, dtypes, sample weights,
warm starts and partial_fit, verbose output, L-BFGS, and refusals.

Every test runs for the regressor (numeric targets) and for the classifier
(string labels of the same data); see conftest's ``estimator`` fixture.
"""

import warnings

import numpy as np
import pytest
from conftest import (
    ESTIMATORS,
    assert_same_weights,
    sines,
    weights,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def data(estimator, n_samples=120):
    """X (four features) and the estimator's targets for this file's tests."""
    return estimator.make_data(n_samples, 4, sines(1))


# ------------------------------------------------------------- parameters

INVALID_PARAMETERS = [
    (dict(hidden_layer_sizes=(10, 0)), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=(10, 2.5)), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes="abc"), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=-3), "hidden_layer_sizes"),
    (dict(activation="softmax"), "activation"),
    (dict(solver="newton"), "solver"),
    (dict(alpha=-1.0), "alpha"),
    (dict(alpha=np.nan), "alpha"),
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size=2.0), "batch_size"),
    (dict(learning_rate="cyclic"), "learning_rate"),
    (dict(learning_rate_init=0.0), "learning_rate_init"),
    (dict(learning_rate_init=np.inf), "learning_rate_init"),
    (dict(power_t=-0.5), "power_t"),
    (dict(max_iter=0), "max_iter"),
    (dict(max_iter=2.5), "max_iter"),
    (dict(shuffle="yes"), "shuffle"),
    (dict(random_state="seed"), "random_state"),
    (dict(random_state=-1), "random_state"),
    (dict(tol=-1e-4), "tol"),
    (dict(tol=np.nan), "tol"),
    (dict(verbose="loud"), "verbose"),
    (dict(warm_start=None), "warm_start"),
    (dict(momentum=1.5), "momentum"),
    (dict(momentum=np.nan), "momentum"),
    (dict(nesterovs_momentum=1), "nesterovs_momentum"),
    (dict(early_stopping="no"), "early_stopping"),
    (dict(validation_fraction=1.0), "validation_fraction"),
    (dict(beta_1=1.0), "beta_1"),
    (dict(beta_2=1.0), "beta_2"),
    (dict(epsilon=0.0), "epsilon"),
    (dict(n_iter_no_change=0), "n_iter_no_change"),
    (dict(n_iter_no_change=np.nan), "n_iter_no_change"),
    (dict(max_fun=0), "max_fun"),
    # Pairs that are only invalid together.
    (dict(early_stopping=True, validation_fraction=0.0), "validation_fraction"),
    (dict(early_stopping=True, validation_fraction=0.005), "validation_fraction"),
]
# The parameters only one estimator has.
OWN_INVALID_PARAMETERS = {
    "regressor": [
        (dict(loss="log_loss"), "loss"),
        (dict(huber_delta=0.0), "huber_delta"),
        (dict(huber_delta=np.inf), "huber_delta"),
        (dict(out_activation="exp"), "out_activation"),
        (dict(loss="poisson", out_activation="relu"), "out_activation"),
    ],
    "classifier": [
        (dict(class_weight="heavy"), "class_weight"),
        (dict(class_weight=[1.0, 2.0]), "class_weight"),
    ],
}
INVALID_CASES = [
    pytest.param(name, params, parameter, id=f"{name}-{params}")
    for name in sorted(ESTIMATORS)
    for params, parameter in INVALID_PARAMETERS + OWN_INVALID_PARAMETERS[name]
]


@pytest.mark.parametrize("name, params, parameter", INVALID_CASES)
def test_invalid_parameter_is_named(name, params, parameter):
    """A bad hyper-parameter raises ValueError at fit (not at construction),
    naming it."""
    estimator = ESTIMATORS[name]
    X, y = estimator.make_data(120, 4, lambda X: np.abs(sines(1)(X)))
    model = estimator.cls(**params)
    with pytest.raises(ValueError, match=parameter):
        model.fit(X, y)


def test_every_parameter_has_an_invalid_value_tested(estimator):
    own = OWN_INVALID_PARAMETERS[estimator.name]
    tested = {parameter for _, parameter in INVALID_PARAMETERS + own}
    assert tested == set(estimator.cls._parameter_constraints)


# ------------------------------------------------------------ fitted state


def test_fitted_attributes(estimator):
    """The network scikit-learn's estimator builds for the same data; the
    history of the epochs run."""
    X, y = data(estimator, 90)
    params = dict(hidden_layer_sizes=(6, 5), max_iter=7, random_state=0)
    model = estimator.cls(**params).fit(X, y)
    reference = estimator.sklearn_cls(**params).fit(X, y)
    assert [c.shape for c in model.coefs_] == [c.shape for c in reference.coefs_]
    assert [b.shape for b in model.intercepts_] == [
        b.shape for b in reference.intercepts_
    ]
    assert model.n_layers_ == reference.n_layers_ == 4
    assert model.n_outputs_ == reference.n_outputs_
    assert model.out_activation_ == reference.out_activation_
    assert model.n_features_in_ == reference.n_features_in_ == 4
    assert model.n_iter_ == len(model.loss_curve_) == 7
    assert model.loss_ == model.loss_curve_[-1]
    assert model.best_loss_ == min(model.loss_curve_)
    assert model.t_ == 7 * 90
    assert model.validation_scores_ is None
    assert model.best_validation_score_ is None


def test_parameters_live_in_one_flat_buffer(estimator):
    """coefs_ and intercepts_ are views into one contiguous array: editing one
    edits the model, which then computes what scikit-learn's estimator
    computes with the edited weights."""
    X, y = data(estimator)
    model = estimator.cls((5, 3), max_iter=2, random_state=0).fit(X, y)
    bases = {id(a.base) for a in weights(model)}
    assert len(bases) == 1
    before = getattr(model, estimator.outputs)(X[:3])
    model.intercepts_[-1][0] += 1.0  # editing a view edits the model
    reference = estimator.sklearn_cls(hidden_layer_sizes=(5, 3), max_iter=1).fit(X, y)
    reference.coefs_ = [c.copy() for c in model.coefs_]
    reference.intercepts_ = [b.copy() for b in model.intercepts_]
    after = getattr(model, estimator.outputs)(X[:3])
    assert not np.allclose(after, before)
    assert_allclose(after, getattr(reference, estimator.outputs)(X[:3]), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(estimator, dtype):
    """float32 input trains and predicts in float32, float64 in float64."""
    X, y = data(estimator)
    model = estimator.cls((8,), max_iter=5, random_state=0)
    model.fit(X.astype(dtype), y)
    assert all(a.dtype == dtype for a in weights(model))
    assert getattr(model, estimator.outputs)(X.astype(dtype)).dtype == dtype


def test_integer_input_becomes_float64(estimator):
    X, y = data(estimator)
    model = estimator.cls((4,), max_iter=3, random_state=0)
    model.fit((X * 10).astype(np.int64), y)
    assert model.coefs_[0].dtype == np.float64


# ---------------------------------------------------------- sample_weight


def test_sample_weight_of_ones_is_no_weight(estimator):
    X, y = data(estimator)
    params = dict(hidden_layer_sizes=(5,), max_iter=4, random_state=0)
    plain = estimator.cls(**params).fit(X, y)
    ones = estimator.cls(**params).fit(X, y, sample_weight=np.ones(len(y)))
    assert_same_weights(ones, plain)


def test_zero_weight_samples_are_ignored(estimator):
    """Rows of weight 0 leave training exactly as if they were absent."""
    X, y = data(estimator, 100)
    params = dict(
        hidden_layer_sizes=(5,),
        max_iter=4,
        random_state=0,
        shuffle=False,
        batch_size=100,
    )
    w = np.r_[np.ones(60), np.zeros(40)]
    y_noise = y.copy()
    y_noise[60:] = estimator.targets(np.full(40, 1e3))
    assert not np.array_equal(y_noise, y)
    weighted = estimator.cls(**params).fit(X, y_noise, sample_weight=w)
    clean = estimator.cls(**params).fit(X, y, sample_weight=w)
    assert_same_weights(weighted, clean)


# ------------------------------------------------- the course of training


def test_verbose_prints_one_line_per_epoch(estimator, capsys):
    X, y = data(estimator)
    model = estimator.cls((4,), max_iter=6, verbose=True, random_state=0)
    model.fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 6
    for epoch, (line, loss) in enumerate(zip(lines, model.loss_curve_), start=1):
        assert line == f"Iteration {epoch}, loss = {loss:.8f}"


def test_fit_restarts_unless_warm_start(estimator):
    X, y = data(estimator)
    model = estimator.cls((5,), max_iter=3, random_state=0)
    first = [c.copy() for c in model.fit(X, y).coefs_]
    second = model.fit(X, y).coefs_
    for a, b in zip(first, second):
        assert_array_equal(a, b)
    model.set_params(warm_start=True).fit(X, y)
    assert len(model.loss_curve_) == 6
    assert not np.array_equal(model.coefs_[0], first[0])


def test_weights_assigned_before_any_fit_are_the_start(estimator):
    """With warm_start, coefs_/intercepts_ set on a new estimator are used."""
    X, y = data(estimator)
    start = estimator.cls((5,), max_iter=1, random_state=0).fit(X, y)
    coefs = [c.copy() for c in start.coefs_]
    intercepts = [b.copy() for b in start.intercepts_]
    params = dict(hidden_layer_sizes=(5,), max_iter=3, shuffle=False)
    continued = estimator.cls(**params, warm_start=True)
    continued.coefs_, continued.intercepts_ = coefs, intercepts
    continued.fit(X, y)
    start.set_params(**params, warm_start=True).fit(X, y)
    assert continued.loss_curve_ == start.loss_curve_[1:]
    assert_same_weights(continued, start)
    assert continued.n_features_in_ == 4


def test_partial_fit_runs_one_epoch_each_call(estimator):
    X, y = data(estimator)
    model = estimator.cls((5,), random_state=0)
    for _ in range(3):
        model.partial_fit(X, y, **estimator.partial_fit_params(y))
    assert model.n_iter_ == 1
    assert len(model.loss_curve_) == 3
    assert model.t_ == 3 * len(X)


def test_partial_fit_refuses_early_stopping(estimator):
    X, y = data(estimator, 20)
    model = estimator.cls((3,), early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping"):
        model.partial_fit(X, y, **estimator.partial_fit_params(y))


def test_validation_attributes_are_none_without_early_stopping(estimator):
    X, y = data(estimator, 20)
    model = estimator.cls((3,), max_iter=2).fit(X, y)
    assert model.validation_scores_ is None
    assert model.validation_loss_curve_ is None


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_batch_size_larger_than_n_warns_and_clips(estimator, method):
    """Clipped to n_samples with a warning: the weights of batch_size=n."""
    X, y = data(estimator, 20)
    fit_params = estimator.partial_fit_params(y) if method == "partial_fit" else {}
    params = dict(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
    model = estimator.cls(**params, batch_size=500)
    with pytest.warns(UserWarning, match="batch_size=500.*clipped to 20"):
        getattr(model, method)(X, y, **fit_params)
    epochs = 2 if method == "fit" else 1
    assert model.t_ == epochs * len(X)
    exact = estimator.cls(**params, batch_size=20)
    getattr(exact, method)(X, y, **fit_params)
    assert_same_weights(model, exact)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_warnings_point_at_the_callers_line(estimator, method):
    """The clipped batch size and the convergence warnings name the line that
    called fit/partial_fit, not a line inside scikit-learn or fastbp."""
    X, y = data(estimator, 20)
    fit_params = estimator.partial_fit_params(y) if method == "partial_fit" else {}
    model = estimator.cls((3,), max_iter=2, batch_size=1000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(model, method)(X, y, **fit_params)
    assert caught and all(w.filename == __file__ for w in caught)


# ------------------------------------------------------------------ L-BFGS


def test_lbfgs_fits_keeps_float32_and_has_no_partial_fit(estimator):
    X, y = data(estimator, 200)
    model = estimator.cls((16,), solver="lbfgs", max_iter=300, random_state=0)
    assert not hasattr(model, "partial_fit")
    model.fit(X.astype(np.float32), y)
    assert all(a.dtype == np.float32 for a in weights(model))
    assert getattr(model, estimator.outputs)(X.astype(np.float32)).dtype == np.float32
    assert model.score(X.astype(np.float32), y) > 0.95
    assert len(model.loss_curve_) == model.n_iter_
    assert model.loss_ <= model.loss_curve_[0]


def test_lbfgs_respects_max_fun(estimator):
    X, y = data(estimator, 200)
    model = estimator.cls((16,), solver="lbfgs", max_fun=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    assert model.n_iter_ <= 5


# ------------------------------------------------------------ refusals


def test_predict_before_fit_raises_not_fitted(estimator):
    X, _ = data(estimator, 20)
    with pytest.raises(NotFittedError):
        estimator.cls().predict(X)


@pytest.mark.parametrize("method", ["warm fit", "partial_fit", "lbfgs warm fit"])
@pytest.mark.parametrize(
    "columns", [slice(0, 2), [0, 1, 2, 3, 0, 1, 2, 3]], ids=["fewer", "more"]
)
def test_continuing_with_other_numbers_of_features_raises(estimator, method, columns):
    """A warm refit or partial_fit with another number of features is refused
    with a ValueError that says so, and the model is intact (scikit-learn's
    MLP estimators fail with a matmul error instead)."""
    X, y = data(estimator, 20)
    solver = "lbfgs" if method == "lbfgs warm fit" else "adam"
    model = estimator.cls((3,), solver=solver, max_iter=2, warm_start=True)
    model.fit(X, y)
    before = getattr(model, estimator.outputs)(X)
    with pytest.raises(ValueError, match="features"):
        if method == "partial_fit":
            model.partial_fit(X[:, columns], y)
        else:
            model.fit(X[:, columns], y)
    assert_array_equal(getattr(model, estimator.outputs)(X), before)


def test_assigned_weights_of_wrong_shape_are_refused(estimator):
    X, y = data(estimator, 20)
    model = estimator.cls((3,), max_iter=2, warm_start=True).fit(X, y)
    model.coefs_ = [np.zeros((4, 3)), np.zeros((2, 1))]
    with pytest.raises(ValueError, match="coefs_"):
        model.fit(X, y)
