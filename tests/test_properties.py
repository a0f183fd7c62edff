"""Properties over random shapes, activations, losses and solvers (hypothesis)."""

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

import fastbp._regressor as regressor
from fastbp import BackpropRegressor
from fastbp._activations import ACTIVATION_CODES

networks = st.fixed_dictionaries(
    {
        "hidden_layer_sizes": st.lists(st.integers(1, 9), max_size=3).map(tuple),
        "activation": st.sampled_from(sorted(ACTIVATION_CODES)),
        "loss": st.sampled_from(["squared_error", "absolute_error", "huber"]),
        "solver": st.sampled_from(["sgd", "adam"]),
        "batch_size": st.integers(1, 40),
        "random_state": st.integers(0, 2**16),
    }
)


def data(seed, n_samples, n_features, n_outputs, dtype):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)).astype(dtype)
    y = np.tanh(X @ rng.normal(size=(n_features, n_outputs))).astype(dtype)
    return X, (y[:, 0] if n_outputs == 1 else y)


@settings(deadline=None, max_examples=40, derandomize=True)
@given(
    params=networks,
    shape=st.tuples(st.integers(2, 60), st.integers(1, 5), st.integers(1, 3)),
    dtype=st.sampled_from([np.float32, np.float64]),
    epochs=st.integers(1, 4),
)
def test_partial_fit_calls_equal_fit_epochs(params, shape, dtype, epochs):
    """k partial_fit calls give the weights of fit(max_iter=k), shuffle=False."""
    X, y = data(params["random_state"], *shape, dtype)
    params = {**params, "shuffle": False, "tol": 0.0, "n_iter_no_change": np.inf}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)  # batch_size clipped
        fitted = BackpropRegressor(**params, max_iter=epochs).fit(X, y)
        stepped = BackpropRegressor(**params)
        for _ in range(epochs):
            stepped.partial_fit(X, y)
    for a, b in zip(fitted.coefs_ + fitted.intercepts_,
                    stepped.coefs_ + stepped.intercepts_):  # fmt: skip
        assert_array_equal(a, b)
    assert fitted.loss_curve_ == stepped.loss_curve_


@settings(deadline=None, max_examples=30, derandomize=True)
@given(
    params=networks,
    shape=st.tuples(st.integers(1, 300), st.integers(1, 5), st.integers(1, 3)),
    chunk=st.integers(1, 64),
)
def test_predictions_do_not_depend_on_row_chunks(params, shape, chunk):
    """Predicting in chunks of any size gives the same values."""
    X, y = data(params["random_state"], *shape, np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BackpropRegressor(**params, max_iter=2).fit(X, y)
    whole = model.predict(X)
    saved = regressor.PREDICT_CHUNK_ROWS
    try:
        regressor.PREDICT_CHUNK_ROWS = chunk
        chunked = model.predict(X)
    finally:
        regressor.PREDICT_CHUNK_ROWS = saved
    assert_allclose(chunked, whole, rtol=1e-12, atol=1e-12)
    one_by_one = np.array([model.predict(X[i : i + 1]) for i in range(len(X))])
    assert_allclose(one_by_one.reshape(whole.shape), whole, rtol=1e-12, atol=1e-12)
