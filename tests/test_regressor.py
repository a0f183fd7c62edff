"""BackpropRegressor: parameters, fitted state, dtypes, failure behaviour."""

import _thread
import inspect
import threading
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPRegressor

from fastbp import BackpropRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def make_data(n_samples=120, n_features=4, n_outputs=1, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n_samples, n_features))
    Y = np.column_stack([np.sin(2 * X[:, j % n_features]) for j in range(n_outputs)])
    return X, (Y.ravel() if n_outputs == 1 else Y)


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


INVALID_PARAMETERS = [
    (dict(hidden_layer_sizes=(10, 0)), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=(10, 2.5)), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes="abc"), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=-3), "hidden_layer_sizes"),
    (dict(activation="softmax"), "activation"),
    (dict(loss="log_loss"), "loss"),
    (dict(huber_delta=0.0), "huber_delta"),
    (dict(huber_delta=np.inf), "huber_delta"),
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
    (dict(out_activation="exp"), "out_activation"),
    # Pairs that are only invalid together.
    (dict(loss="poisson", out_activation="relu"), "out_activation"),
    (dict(early_stopping=True, validation_fraction=0.0), "validation_fraction"),
    (dict(early_stopping=True, validation_fraction=0.005), "validation_fraction"),
]


@pytest.mark.parametrize("params, name", INVALID_PARAMETERS)
def test_invalid_parameter_is_named(params, name):
    """A bad hyper-parameter raises ValueError at fit (not at construction),
    naming it."""
    X, y = make_data()
    model = BackpropRegressor(**params)
    with pytest.raises(ValueError, match=name):
        model.fit(X, np.abs(y))


def test_every_parameter_has_an_invalid_value_tested():
    tested = {name for _, name in INVALID_PARAMETERS}
    assert tested == set(BackpropRegressor._parameter_constraints)


# ------------------------------------------------------------ fitted state


def test_fitted_attributes():
    X, y = make_data(n_samples=90)
    model = BackpropRegressor((6, 5), max_iter=7, random_state=0).fit(X, y)
    assert [c.shape for c in model.coefs_] == [(4, 6), (6, 5), (5, 1)]
    assert [b.shape for b in model.intercepts_] == [(6,), (5,), (1,)]
    assert model.n_layers_ == 4
    assert model.n_outputs_ == 1
    assert model.out_activation_ == "identity"
    assert model.n_features_in_ == 4
    assert model.n_iter_ == len(model.loss_curve_) == 7
    assert model.loss_ == model.loss_curve_[-1]
    assert model.best_loss_ == min(model.loss_curve_)
    assert model.t_ == 7 * 90
    assert model.validation_scores_ is None
    assert model.best_validation_score_ is None


def test_parameters_live_in_one_flat_buffer():
    """coefs_ and intercepts_ are views into one contiguous array."""
    X, y = make_data()
    model = BackpropRegressor((5, 3), max_iter=2, random_state=0).fit(X, y)
    bases = {id(a.base) for a in model.coefs_ + model.intercepts_}
    assert len(bases) == 1
    before = model.predict(X[:3])
    model.intercepts_[-1][0] += 1.0  # editing a view edits the model
    assert_allclose(model.predict(X[:3]), before + 1.0, rtol=1e-12)


def test_multi_output():
    X, Y = make_data(n_outputs=3)
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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    """float32 input trains and predicts in float32, float64 in float64."""
    X, y = make_data()
    model = BackpropRegressor((8,), max_iter=5, random_state=0)
    model.fit(X.astype(dtype), y.astype(dtype))
    assert all(a.dtype == dtype for a in model.coefs_ + model.intercepts_)
    assert model.predict(X.astype(dtype)).dtype == dtype


def test_integer_input_becomes_float64():
    X, y = make_data()
    model = BackpropRegressor((4,), max_iter=3, random_state=0)
    model.fit((X * 10).astype(np.int64), y)
    assert model.coefs_[0].dtype == np.float64


def test_sample_weight_of_ones_is_no_weight():
    X, y = make_data()
    params = dict(hidden_layer_sizes=(5,), max_iter=4, random_state=0)
    plain = BackpropRegressor(**params).fit(X, y)
    ones = BackpropRegressor(**params).fit(X, y, sample_weight=np.ones(len(y)))
    for a, b in zip(plain.coefs_, ones.coefs_):
        assert_array_equal(a, b)


def test_zero_weight_samples_are_ignored():
    """Rows of weight 0 leave training exactly as if they were absent."""
    X, y = make_data(n_samples=100)
    params = dict(
        hidden_layer_sizes=(5,),
        max_iter=4,
        random_state=0,
        shuffle=False,
        batch_size=100,
    )
    w = np.r_[np.ones(60), np.zeros(40)]
    y_noise = y.copy()
    y_noise[60:] = 1e3
    weighted = BackpropRegressor(**params).fit(X, y_noise, sample_weight=w)
    clean = BackpropRegressor(**params).fit(X, y, sample_weight=w)
    for a, b in zip(weighted.coefs_, clean.coefs_):
        assert_array_equal(a, b)


def test_verbose_prints_one_line_per_epoch(capsys):
    X, y = make_data()
    model = BackpropRegressor((4,), max_iter=6, verbose=True, random_state=0)
    model.fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 6
    for epoch, (line, loss) in enumerate(zip(lines, model.loss_curve_), start=1):
        assert line == f"Iteration {epoch}, loss = {loss:.8f}"


def test_fit_restarts_unless_warm_start():
    X, y = make_data()
    model = BackpropRegressor((5,), max_iter=3, random_state=0)
    first = [c.copy() for c in model.fit(X, y).coefs_]
    second = model.fit(X, y).coefs_
    for a, b in zip(first, second):
        assert_array_equal(a, b)
    model.set_params(warm_start=True).fit(X, y)
    assert len(model.loss_curve_) == 6
    assert not np.array_equal(model.coefs_[0], first[0])


def test_partial_fit_runs_one_epoch_each_call():
    X, y = make_data()
    model = BackpropRegressor((5,), random_state=0)
    for _ in range(3):
        model.partial_fit(X, y)
    assert model.n_iter_ == 1
    assert len(model.loss_curve_) == 3
    assert model.t_ == 3 * len(X)


# ------------------------------------------------------------ bad input

GOOD_X, GOOD_Y = make_data(n_samples=20)


def with_value(array, index, value):
    array = np.array(array, dtype=float)
    array[index] = value
    return array


@pytest.mark.parametrize(
    "X, y, message",
    [
        (with_value(GOOD_X, (3, 1), np.nan), GOOD_Y, "NaN"),
        (with_value(GOOD_X, (3, 1), np.inf), GOOD_Y, "infinity"),
        (GOOD_X, with_value(GOOD_Y, 2, np.nan), "NaN"),
        (GOOD_X, with_value(GOOD_Y, 2, -np.inf), "infinity"),
        (np.empty((0, 4)), np.empty(0), "0 sample"),
        (GOOD_X[:, 0], GOOD_Y, "2D array"),
        (GOOD_X[:, :, None], GOOD_Y, "dim"),
        (GOOD_X + 1j, GOOD_Y, "[Cc]omplex"),
        (np.full((20, 4), "a"), GOOD_Y, "float"),
        (GOOD_X, np.full(20, "a"), "float|numeric"),
        (GOOD_X, GOOD_Y[:15], "inconsistent numbers of samples"),
    ],
)
def test_bad_training_data_raises_value_error(X, y, message):
    with pytest.raises(ValueError, match=message):
        BackpropRegressor((3,), max_iter=2).fit(X, y)


@pytest.mark.parametrize(
    "sample_weight, message",
    [
        (np.r_[-1.0, np.ones(19)], "[Nn]egative"),
        (np.r_[np.nan, np.ones(19)], "NaN"),
        (np.ones(7), "shape"),
    ],
)
def test_bad_sample_weight_raises_value_error(sample_weight, message):
    with pytest.raises(ValueError, match=message):
        BackpropRegressor((3,), max_iter=2).fit(GOOD_X, GOOD_Y, sample_weight)


def test_predict_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError):
        BackpropRegressor().predict(GOOD_X)


@pytest.mark.parametrize(
    "X, message",
    [
        (GOOD_X[:, :3], "3 features"),
        (with_value(GOOD_X, (0, 0), np.nan), "NaN"),
        (GOOD_X[:, 0], "2D array"),
    ],
)
def test_bad_predict_input_raises_value_error(X, message):
    model = BackpropRegressor((3,), max_iter=2).fit(GOOD_X, GOOD_Y)
    with pytest.raises(ValueError, match=message):
        model.predict(X)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_batch_size_larger_than_n_warns_and_clips(method):
    """Clipped to n_samples with a warning: the weights of batch_size=n."""
    params = dict(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
    model = BackpropRegressor(**params, batch_size=500)
    with pytest.warns(UserWarning, match="batch_size=500.*clipped to 20"):
        getattr(model, method)(GOOD_X, GOOD_Y)
    epochs = 2 if method == "fit" else 1
    assert model.t_ == epochs * len(GOOD_X)
    exact = getattr(BackpropRegressor(**params, batch_size=20), method)(GOOD_X, GOOD_Y)
    for a, b in zip(model.coefs_ + model.intercepts_, exact.coefs_ + exact.intercepts_):
        assert_array_equal(a, b)


@pytest.mark.parametrize("method", ["warm fit", "partial_fit", "lbfgs warm fit"])
@pytest.mark.parametrize(
    "X, y, message",
    [
        (GOOD_X, np.c_[GOOD_Y, GOOD_Y], "outputs"),
        (GOOD_X[:, :2], GOOD_Y, "features"),
        (np.c_[GOOD_X, GOOD_X], GOOD_Y, "features"),
    ],
    ids=["more outputs", "fewer features", "more features"],
)
def test_continuing_with_other_shapes_raises(method, X, y, message):
    """A warm refit or partial_fit with other numbers of outputs or features
    is refused with a ValueError that says which, and the model is intact
    (scikit-learn's MLPRegressor fails with a matmul error instead)."""
    solver = "lbfgs" if method == "lbfgs warm fit" else "adam"
    model = BackpropRegressor((3,), solver=solver, max_iter=2, warm_start=True)
    model.fit(GOOD_X, GOOD_Y)
    before = model.predict(GOOD_X)
    with pytest.raises(ValueError, match=message):
        if method == "partial_fit":
            model.partial_fit(X, y)
        else:
            model.fit(X, y)
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


def test_assigned_weights_of_wrong_shape_are_refused():
    model = BackpropRegressor((3,), max_iter=2, warm_start=True).fit(GOOD_X, GOOD_Y)
    model.coefs_ = [np.zeros((4, 3)), np.zeros((2, 1))]
    with pytest.raises(ValueError, match="coefs_"):
        model.fit(GOOD_X, GOOD_Y)


# ------------------------------------------------------------ faults


def test_divergence_keeps_last_finite_epoch():
    """A non-finite loss stops training with a ValueError that says what to do;
    the weights are those of the last finite epoch."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, 2.0, 3.0]) * 100
    params = dict(
        hidden_layer_sizes=(10,),
        solver="sgd",
        learning_rate_init=0.05,
        random_state=0,
        max_iter=50,
    )
    model = BackpropRegressor(**params)
    with pytest.raises(ValueError, match="diverged.*Scale the data.*learning_rate"):
        model.fit(X, y)
    assert 0 < model.n_iter_ < 50
    assert len(model.loss_curve_) == model.n_iter_
    assert np.isfinite(model.loss_curve_).all()
    assert all(np.isfinite(c).all() for c in model.coefs_ + model.intercepts_)
    replay = BackpropRegressor(**{**params, "max_iter": model.n_iter_}).fit(X, y)
    for a, b in zip(
        model.coefs_ + model.intercepts_, replay.coefs_ + replay.intercepts_
    ):
        assert_array_equal(a, b)


def test_ctrl_c_keeps_last_finished_epoch():
    """SIGINT during fit: a warning, the estimator returned, and the weights
    of the last finished epoch, as a fit with that many epochs gives."""
    X, y = make_data(n_samples=2000, n_features=8)
    params = dict(
        hidden_layer_sizes=(64, 64),
        random_state=0,
        max_iter=100000,
        tol=0.0,
        n_iter_no_change=np.inf,
    )
    BackpropRegressor(**{**params, "max_iter": 1}).fit(X, y)  # compile first
    model = BackpropRegressor(**params)
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.warns(UserWarning, match="interrupted"):
            returned = model.fit(X, y)
    finally:
        timer.cancel()
    assert returned is model
    assert 0 < model.n_iter_ < 100000
    assert len(model.loss_curve_) == model.n_iter_
    replay = BackpropRegressor(**{**params, "max_iter": model.n_iter_}).fit(X, y)
    for a, b in zip(
        model.coefs_ + model.intercepts_, replay.coefs_ + replay.intercepts_
    ):
        assert_array_equal(a, b)


def test_weights_assigned_before_any_fit_are_the_start():
    """With warm_start, coefs_/intercepts_ set on a new estimator are used."""
    X, y = make_data()
    start = BackpropRegressor((5,), max_iter=1, random_state=0).fit(X, y)
    coefs = [c.copy() for c in start.coefs_]
    intercepts = [b.copy() for b in start.intercepts_]
    params = dict(hidden_layer_sizes=(5,), max_iter=3, shuffle=False)
    continued = BackpropRegressor(**params, warm_start=True)
    continued.coefs_, continued.intercepts_ = coefs, intercepts
    continued.fit(X, y)
    start.set_params(**params, warm_start=True).fit(X, y)
    assert continued.loss_curve_ == start.loss_curve_[1:]
    for a, b in zip(continued.coefs_, start.coefs_):
        assert_array_equal(a, b)
    assert continued.n_features_in_ == 4


def test_partial_fit_refuses_early_stopping():
    with pytest.raises(ValueError, match="early_stopping"):
        BackpropRegressor((3,), early_stopping=True).partial_fit(GOOD_X, GOOD_Y)


def test_validation_loss_curve_matches_validation_scores():
    """For one output, 0.5 * MSE = 0.5 * (1 - R^2) * var(y_val): the ratio of
    validation_loss_curve_ to 1 - validation_scores_ is the same every epoch,
    and the best score is the one whose weights are kept."""
    X, y = make_data(n_samples=300)
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


def test_validation_attributes_are_none_without_early_stopping():
    model = BackpropRegressor((3,), max_iter=2).fit(GOOD_X, GOOD_Y)
    assert model.validation_scores_ is None
    assert model.validation_loss_curve_ is None


def test_lbfgs_fits_keeps_float32_and_has_no_partial_fit():
    X, y = make_data(n_samples=200)
    model = BackpropRegressor((16,), solver="lbfgs", max_iter=300, random_state=0)
    assert not hasattr(model, "partial_fit")
    model.fit(X.astype(np.float32), y.astype(np.float32))
    assert all(c.dtype == np.float32 for c in model.coefs_ + model.intercepts_)
    assert model.predict(X.astype(np.float32)).dtype == np.float32
    assert model.score(X.astype(np.float32), y) > 0.95
    assert len(model.loss_curve_) == model.n_iter_
    assert model.loss_ <= model.loss_curve_[0]


def test_lbfgs_respects_max_fun():
    X, y = make_data(n_samples=200)
    model = BackpropRegressor((16,), solver="lbfgs", max_fun=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    assert model.n_iter_ <= 5


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


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_warnings_point_at_the_callers_line(method):
    """The clipped batch size and the convergence warnings name the line that
    called fit/partial_fit, not a line inside scikit-learn or fastbp."""
    model = BackpropRegressor((3,), max_iter=2, batch_size=1000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(model, method)(GOOD_X, GOOD_Y)
    assert caught and all(w.filename == __file__ for w in caught)
