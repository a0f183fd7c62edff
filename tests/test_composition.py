"""fastbp inside scikit-learn's tools: pipelines, column transformers on
DataFrames, target transforms, cloning, cross-validation and searches run in
processes and in threads.

Each composition is checked against the same steps done by hand.
"""

import joblib
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import loguniform
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from fastbp import BackpropRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def make_data(n_samples=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(loc=3.0, scale=[1.0, 5.0, 0.2], size=(n_samples, 3))
    y = np.sin(X[:, 0]) + 0.1 * X[:, 1] - 2.0 * X[:, 2]
    return X, y


def make_frame(n_samples=120, seed=0):
    """A DataFrame with two numeric columns and one of strings, and y."""
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame(
        {
            "size": rng.uniform(20, 200, n_samples),
            "age": rng.uniform(0, 80, n_samples),
            "city": rng.choice(["Lyon", "Oslo", "Quito"], n_samples),
        }
    )
    effect = frame["city"].map({"Lyon": 1.0, "Oslo": -1.0, "Quito": 0.0})
    y = 0.01 * frame["size"] - 0.02 * frame["age"] + effect
    return frame, y.to_numpy()


def small_model(**params):
    return BackpropRegressor((8,), max_iter=30, random_state=0, **params)


def test_pipeline_equals_scaling_by_hand():
    X, y = make_data()
    pipeline = make_pipeline(StandardScaler(), small_model()).fit(X, y)
    scaler = StandardScaler().fit(X)
    model = small_model().fit(scaler.transform(X), y)
    assert_array_equal(pipeline.predict(X), model.predict(scaler.transform(X)))


def test_column_transformer_on_a_dataframe_equals_encoding_by_hand():
    """Scaled numbers and one-hot cities; the column names travel through."""
    frame, y = make_frame()
    encode = ColumnTransformer(
        [
            ("numbers", StandardScaler(), ["size", "age"]),
            ("cities", OneHotEncoder(sparse_output=False), ["city"]),
        ]
    ).set_output(transform="pandas")
    pipeline = make_pipeline(encode, small_model()).fit(frame, y)

    encoded = clone(encode).fit_transform(frame)
    reference = small_model().fit(encoded.to_numpy(), y)
    assert_array_equal(pipeline.predict(frame), reference.predict(encoded.to_numpy()))

    assert_array_equal(pipeline.feature_names_in_, ["size", "age", "city"])
    model = pipeline[-1]
    assert_array_equal(model.feature_names_in_, encode.get_feature_names_out())
    assert list(model.feature_names_in_) == [
        "numbers__size",
        "numbers__age",
        "cities__city_Lyon",
        "cities__city_Oslo",
        "cities__city_Quito",
    ]


def test_dataframe_names_are_kept_and_renamed_columns_refused():
    frame, y = make_frame()
    numbers = frame[["size", "age"]] / 100
    model = small_model().fit(numbers, y)
    assert_array_equal(model.feature_names_in_, ["size", "age"])
    # Fitted on the same numbers as an array, it is the same model.
    same = small_model().fit(numbers.to_numpy(), y)
    assert_array_equal(model.predict(numbers), same.predict(numbers.to_numpy()))
    with pytest.raises(ValueError, match="feature names should match"):
        model.predict(numbers.rename(columns={"age": "years"}))
    with pytest.raises(ValueError, match="feature names should match"):
        model.predict(numbers[["age", "size"]])


def test_transformed_target_regressor_equals_scaling_y_by_hand():
    X, y = make_data()
    y = 1000.0 + 50.0 * y  # far from the unit scale the network expects
    composed = TransformedTargetRegressor(small_model(), transformer=StandardScaler())
    composed.fit(X, y)
    y_scaler = StandardScaler().fit(y[:, None])
    model = small_model().fit(X, y_scaler.transform(y[:, None]).ravel())
    by_hand = y_scaler.inverse_transform(model.predict(X)[:, None]).ravel()
    assert_allclose(composed.predict(X), by_hand, rtol=1e-14)


def test_clone_and_nested_parameters():
    X, y = make_data()
    pipeline = make_pipeline(StandardScaler(), small_model())
    pipeline.set_params(
        backpropregressor__hidden_layer_sizes=(6, 4),
        backpropregressor__activation="tanh",
        standardscaler__with_mean=False,
    )
    params = pipeline.get_params(deep=True)
    assert params["backpropregressor__hidden_layer_sizes"] == (6, 4)
    assert params["backpropregressor"].activation == "tanh"
    assert params["standardscaler"].with_mean is False

    pipeline.fit(X, y)
    copy = clone(pipeline)
    assert not hasattr(copy[-1], "coefs_")
    assert copy[-1].get_params() == pipeline[-1].get_params()
    assert [c.shape for c in copy.fit(X, y)[-1].coefs_] == [(3, 6), (6, 4), (4, 1)]
    assert_array_equal(copy.predict(X), pipeline.predict(X))
    with pytest.raises(ValueError, match="hidden_units"):
        pipeline.set_params(backpropregressor__hidden_units=3)


def test_cross_validation_equals_the_loop_by_hand():
    X, y = make_data()
    pipeline = make_pipeline(StandardScaler(), small_model())
    folds = KFold(n_splits=3, shuffle=True, random_state=0)
    r2, mse = [], []
    for train, test in folds.split(X):
        fitted = clone(pipeline).fit(X[train], y[train])
        r2.append(r2_score(y[test], fitted.predict(X[test])))
        mse.append(mean_squared_error(y[test], fitted.predict(X[test])))

    assert_array_equal(cross_val_score(pipeline, X, y, cv=folds), r2)
    results = cross_validate(
        pipeline, X, y, cv=folds, scoring=("r2", "neg_mean_squared_error")
    )
    assert_array_equal(results["test_r2"], r2)
    assert_array_equal(results["test_neg_mean_squared_error"], np.negative(mse))


def make_search(kind, n_jobs):
    pipeline = make_pipeline(StandardScaler(), small_model())
    if kind == "grid":
        grid = {
            "backpropregressor__alpha": [1e-4, 1e-1],
            "backpropregressor__hidden_layer_sizes": [(4,), (8,)],
        }
        return GridSearchCV(pipeline, grid, cv=3, n_jobs=n_jobs)
    space = {
        "backpropregressor__alpha": loguniform(1e-5, 1.0),
        "backpropregressor__learning_rate_init": loguniform(1e-3, 1e-1),
    }
    return RandomizedSearchCV(
        pipeline, space, n_iter=4, cv=3, n_jobs=n_jobs, random_state=0
    )


def assert_same_search(search, reference, X):
    assert search.best_params_ == reference.best_params_
    assert search.cv_results_["params"] == reference.cv_results_["params"]
    for split in range(3):
        key = f"split{split}_test_score"
        assert_array_equal(search.cv_results_[key], reference.cv_results_[key])
    assert_array_equal(search.predict(X), reference.predict(X))


@pytest.mark.parametrize("kind", ["grid", "random"])
@pytest.mark.parametrize("backend", ["processes", "threads"])
def test_parallel_search_equals_serial_search(kind, backend):
    """n_jobs=2 in worker processes (joblib's default, loky) or in two threads
    (the kernels release the GIL) gives the serial search's results."""
    X, y = make_data()
    reference = make_search(kind, n_jobs=None).fit(X, y)
    if backend == "processes":
        search = make_search(kind, n_jobs=2).fit(X, y)
    else:
        with joblib.parallel_backend("threading", n_jobs=2):
            search = make_search(kind, n_jobs=2).fit(X, y)
    assert_same_search(search, reference, X)
