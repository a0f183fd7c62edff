"""fastbp inside scikit-learn's tools: pipelines, column transformers on
DataFrames, target transforms, cloning, cross-validation and searches run in
processes and in threads.

Each composition is checked against the same steps done by hand.
"""

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import ESTIMATORS, SCORES, make_search
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.model_selection import KFold, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def scaled_data(estimator, n_samples=120, seed=0):
    """Three features on very different scales (X is not standardized)."""
    rng = np.random.RandomState(seed)
    X = rng.normal(loc=3.0, scale=[1.0, 5.0, 0.2], size=(n_samples, 3))
    y = np.sin(X[:, 0]) + 0.1 * X[:, 1] - 2.0 * X[:, 2]
    return X, estimator.targets(y)


def make_frame(estimator, n_samples=120, seed=0):
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
    return frame, estimator.targets(y.to_numpy())


def small_model(estimator, **params):
    return estimator.cls((8,), max_iter=30, random_state=0, **params)


def test_pipeline_equals_scaling_by_hand(estimator):
    X, y = scaled_data(estimator)
    pipeline = make_pipeline(StandardScaler(), small_model(estimator)).fit(X, y)
    scaler = StandardScaler().fit(X)
    model = small_model(estimator).fit(scaler.transform(X), y)
    assert_array_equal(pipeline.predict(X), model.predict(scaler.transform(X)))


def test_column_transformer_on_a_dataframe_equals_encoding_by_hand(estimator):
    """Scaled numbers and one-hot cities; the column names travel through."""
    frame, y = make_frame(estimator)
    encode = ColumnTransformer(
        [
            ("numbers", StandardScaler(), ["size", "age"]),
            ("cities", OneHotEncoder(sparse_output=False), ["city"]),
        ]
    ).set_output(transform="pandas")
    pipeline = make_pipeline(encode, small_model(estimator)).fit(frame, y)

    encoded = clone(encode).fit_transform(frame)
    reference = small_model(estimator).fit(encoded.to_numpy(), y)
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


def test_dataframe_names_are_kept_and_renamed_columns_refused(estimator):
    frame, y = make_frame(estimator)
    numbers = frame[["size", "age"]] / 100
    model = small_model(estimator).fit(numbers, y)
    assert_array_equal(model.feature_names_in_, ["size", "age"])
    # Fitted on the same numbers as an array, it is the same model.
    same = small_model(estimator).fit(numbers.to_numpy(), y)
    assert_array_equal(model.predict(numbers), same.predict(numbers.to_numpy()))
    with pytest.raises(ValueError, match="feature names should match"):
        model.predict(numbers.rename(columns={"age": "years"}))
    with pytest.raises(ValueError, match="feature names should match"):
        model.predict(numbers[["age", "size"]])


def test_transformed_target_regressor_equals_scaling_y_by_hand():
    X, y = scaled_data(ESTIMATORS["regressor"])
    y = 1000.0 + 50.0 * y  # far from the unit scale the network expects
    regressor = ESTIMATORS["regressor"]
    composed = TransformedTargetRegressor(
        small_model(regressor), transformer=StandardScaler()
    )
    composed.fit(X, y)
    y_scaler = StandardScaler().fit(y[:, None])
    model = small_model(regressor).fit(X, y_scaler.transform(y[:, None]).ravel())
    by_hand = y_scaler.inverse_transform(model.predict(X)[:, None]).ravel()
    assert_allclose(composed.predict(X), by_hand, rtol=1e-14)


def test_clone_and_nested_parameters(estimator):
    X, y = scaled_data(estimator)
    step = estimator.step_name
    pipeline = make_pipeline(StandardScaler(), small_model(estimator))
    pipeline.set_params(
        **{
            f"{step}__hidden_layer_sizes": (6, 4),
            f"{step}__activation": "tanh",
            "standardscaler__with_mean": False,
        }
    )
    params = pipeline.get_params(deep=True)
    assert params[f"{step}__hidden_layer_sizes"] == (6, 4)
    assert params[step].activation == "tanh"
    assert params["standardscaler"].with_mean is False

    pipeline.fit(X, y)
    copy = clone(pipeline)
    assert not hasattr(copy[-1], "coefs_")
    assert copy[-1].get_params() == pipeline[-1].get_params()
    n_outputs = pipeline[-1].n_outputs_
    assert [c.shape for c in copy.fit(X, y)[-1].coefs_] == [
        (3, 6),
        (6, 4),
        (4, n_outputs),
    ]
    assert_array_equal(copy.predict(X), pipeline.predict(X))
    with pytest.raises(ValueError, match="hidden_units"):
        pipeline.set_params(**{f"{step}__hidden_units": 3})


def test_cross_validation_equals_the_loop_by_hand(estimator):
    """cross_val_score (the estimator's score) and cross_validate with two
    scorers give the scores of the loop over the folds, computed by hand."""
    X, y = scaled_data(estimator)
    pipeline = make_pipeline(StandardScaler(), small_model(estimator))
    folds = KFold(n_splits=3, shuffle=True, random_state=0)
    scores = {name: [] for name in estimator.scoring}
    for train, test in folds.split(X):
        fitted = clone(pipeline).fit(X[train], y[train])
        for name in estimator.scoring:
            scores[name].append(SCORES[name](fitted, X[test], y[test]))

    first = estimator.scoring[0]  # the estimator's score
    assert_array_equal(cross_val_score(pipeline, X, y, cv=folds), scores[first])
    results = cross_validate(pipeline, X, y, cv=folds, scoring=estimator.scoring)
    for name in estimator.scoring:
        assert_array_equal(results[f"test_{name}"], scores[name])


def assert_same_search(search, reference, X):
    assert search.best_params_ == reference.best_params_
    assert search.cv_results_["params"] == reference.cv_results_["params"]
    for split in range(3):
        key = f"split{split}_test_score"
        assert_array_equal(search.cv_results_[key], reference.cv_results_[key])
    assert_array_equal(search.predict(X), reference.predict(X))


@pytest.mark.parametrize("kind", ["grid", "random"])
@pytest.mark.parametrize("backend", ["processes", "threads"])
def test_parallel_search_equals_serial_search(estimator, kind, backend):
    """n_jobs=2 in worker processes (joblib's default, loky) or in two threads
    (the kernels release the GIL) gives the serial search's results."""
    X, y = scaled_data(estimator)
    reference = make_search(estimator, kind, n_jobs=None).fit(X, y)
    if backend == "processes":
        search = make_search(estimator, kind, n_jobs=2).fit(X, y)
    else:
        with joblib.parallel_backend("threading", n_jobs=2):
            search = make_search(estimator, kind, n_jobs=2).fit(X, y)
    assert_same_search(search, reference, X)
