"""Pin the results of a set of fits, to show a redesign changes none of them.

``python -m tests.pinned_fits save FILE`` trains every configuration below and
writes its weights, loss curve and predictions to FILE (``.npz``);
``python -m tests.pinned_fits check FILE`` trains them again and compares
every array bit for bit. The bits depend on the machine's BLAS kernels, so a
pin is compared on the machine (and BLAS) that wrote it; the unit tests check
agreement with scikit-learn, which holds everywhere.
"""

import sys
import warnings

import numpy as np

from fastbp import BackpropRegressor

# (name, hidden layers, dtype, options, how): every solver in both precisions,
# each loss, output activations, early stopping, sample weights, several
# outputs, the schedules, warm starts and partial_fit.
CONFIGURATIONS = [
    ("adam64", (16, 8), np.float64, {}, "fit"),
    ("adam32", (16, 8), np.float32, {}, "fit"),
    ("sgd64", (12,), np.float64, dict(solver="sgd", activation="tanh"), "fit"),
    ("sgd32", (12,), np.float32, dict(solver="sgd", nesterovs_momentum=False), "fit"),
    ("lbfgs64", (10,), np.float64, dict(solver="lbfgs", activation="logistic"), "fit"),
    ("lbfgs32", (10,), np.float32, dict(solver="lbfgs"), "fit"),
    ("poisson", (8,), np.float64, dict(loss="poisson", activation="elu"), "fit"),
    ("absolute", (8,), np.float32, dict(loss="absolute_error"), "fit"),
    ("huber", (8,), np.float64, dict(loss="huber", huber_delta=0.3), "fit"),
    ("huber_lbfgs", (8,), np.float64, dict(loss="huber", solver="lbfgs"), "fit"),
    ("early64", (16,), np.float64, dict(early_stopping=True, max_iter=30), "fit"),
    ("early32", (16,), np.float32, dict(early_stopping=True, max_iter=30), "fit"),
    ("weighted", (16,), np.float64, dict(activation="leaky_relu"), "weighted"),
    ("weighted_early", (16,), np.float32, dict(early_stopping=True), "weighted"),
    ("weighted_lbfgs", (6,), np.float64, dict(solver="lbfgs"), "weighted"),
    ("multi64", (16,), np.float64, {}, "multi"),
    ("multi_lbfgs", (16,), np.float64, dict(solver="lbfgs"), "multi"),
    ("logistic_out", (6,), np.float64, dict(out_activation="logistic"), "unit"),
    ("tanh_out_sgd", (6,), np.float32, dict(out_activation="tanh", solver="sgd"),
     "unit"),  # fmt: skip
    ("invscaling", (8,), np.float64,
     dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.05), "fit"),
    ("adaptive", (8,), np.float64,
     dict(solver="sgd", learning_rate="adaptive", n_iter_no_change=2), "fit"),
    ("no_hidden", (), np.float64, dict(solver="sgd"), "fit"),
    ("partial", (16,), np.float64, {}, "partial"),
    ("partial_sgd32", (16,), np.float32, dict(solver="sgd"), "partial"),
    ("warm", (16,), np.float64, dict(warm_start=True), "warm"),
    ("wide64", (300, 300), np.float64, dict(max_iter=2), "fit"),
    ("wide32", (300, 300), np.float32, dict(max_iter=2), "fit"),
]


def _data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(333, 6))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=333)
    Y = np.column_stack([y, np.cos(X[:, 3]) - X[:, 4]])
    w = rng.uniform(0, 2, size=333)
    return X, y, Y, w


def pinned_results():
    """``{name/array: ndarray}`` for every configuration."""
    X, y, Y, w = _data()
    results = {}
    for name, hidden, dtype, options, how in CONFIGURATIONS:
        options = {"max_iter": 15, "random_state": 0, **options}
        model = BackpropRegressor(hidden, **options)
        Xd = X.astype(dtype)
        target = y
        if options.get("loss") == "poisson":
            target = np.exp(0.3 * y)
        elif how == "multi":
            target = Y
        elif how == "unit":
            target = 1 / (1 + np.exp(-y)) * (0.5 if "tanh" in name else 1.0)
        target = target.astype(dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if how == "weighted":
                model.fit(Xd, target, sample_weight=w.astype(dtype))
            elif how == "partial":
                for start in range(0, 333, 100):
                    model.partial_fit(Xd[start : start + 100], target[start : start + 100])
            elif how == "warm":
                model.fit(Xd, target)
                model.set_params(max_iter=5).fit(Xd[::2], target[::2])
            else:
                model.fit(Xd, target)
        arrays = model.coefs_ + model.intercepts_
        for i, array in enumerate(arrays):
            results[f"{name}/param{i}"] = np.array(array)
        results[f"{name}/loss_curve"] = np.array(model.loss_curve_)
        results[f"{name}/predict"] = model.predict(Xd[:50])
        if model.validation_scores_ is not None:
            results[f"{name}/validation"] = np.array(model.validation_scores_)
    return results


def main(argv):
    command, path = argv
    results = pinned_results()
    if command == "save":
        np.savez(path, **results)
        print(f"pinned {len(results)} arrays of {len(CONFIGURATIONS)} fits in {path}")
        return 0
    pinned = np.load(path)
    differ = [
        key
        for key in pinned.files
        if key not in results
        or pinned[key].dtype != results[key].dtype
        or pinned[key].tobytes() != results[key].tobytes()
    ]
    missing = sorted(set(results) - set(pinned.files))
    print(
        f"{len(pinned.files) - len(differ)} of {len(pinned.files)} pinned arrays "
        f"bit-identical ({len(CONFIGURATIONS)} fits); differ: {differ or 'none'}; "
        f"new: {missing or 'none'}"
    )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
