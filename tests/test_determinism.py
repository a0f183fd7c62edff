"""The same random_state gives bitwise-identical weights: in one process, and
in fresh processes whatever the number of BLAS threads."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import weights

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Networks small and large enough for BLAS to use one or several threads, of
# both estimators; run in a fresh process and in the test's own.
_FITS = """
import hashlib
import numpy as np
from conftest import ESTIMATORS
rng = np.random.RandomState(0)
X = rng.normal(size=(1000, 8))
y = np.sin(X[:, 0]) + X[:, 1]
digests = []  # SHA-256 of each configuration's coefs_ and intercepts_ bytes
# Every solver, dtype, several activations and losses; the same seeds.
for name, hidden, dtype, options in [
    ("regressor", (16,), np.float64, {}),
    ("regressor", (256, 256), np.float64, {}),
    ("regressor", (300, 300), np.float32, {}),
    ("regressor", (16, 8), np.float32,
     dict(solver="sgd", activation="tanh", loss="huber")),
    ("regressor", (12,), np.float64, dict(solver="lbfgs", activation="logistic")),
    ("regressor", (12,), np.float32, dict(solver="lbfgs", loss="absolute_error")),
    ("regressor", (8,), np.float64, dict(activation="elu", loss="poisson")),
    ("regressor", (8,), np.float64,
     dict(activation="leaky_relu", early_stopping=True)),
    ("classifier", (16,), np.float64, {}),
    ("classifier", (256, 256), np.float64, {}),
    ("classifier", (300, 300), np.float32, {}),
    ("classifier", (16, 8), np.float32, dict(solver="sgd", activation="tanh")),
    ("classifier", (12,), np.float64, dict(solver="lbfgs", activation="logistic")),
    ("classifier", (12,), np.float32, dict(solver="lbfgs")),
    ("classifier", (8,), np.float64,
     dict(activation="leaky_relu", early_stopping=True)),
]:
    estimator = ESTIMATORS[name]
    model = estimator.cls(hidden, max_iter=2, random_state=0, **options)
    target = np.abs(y) if options.get("loss") == "poisson" else y
    model.fit(X.astype(dtype), estimator.targets(target.astype(dtype)))
    digest = hashlib.sha256()
    for array in model.coefs_ + model.intercepts_:
        digest.update(array.tobytes())
    digests.append(digest.hexdigest())
"""  # fmt: skip
_CHILD = "import warnings; warnings.simplefilter('ignore')" + _FITS + "print(*digests)"


def weights_digests(threads):
    env = dict(
        os.environ,
        OPENBLAS_NUM_THREADS=str(threads),
        OMP_NUM_THREADS=str(threads),
        NUMBA_NUM_THREADS=str(threads),
        PYTHONPATH=os.pathsep.join(  # conftest, where the estimators are
            [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
        ),
    )
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_same_weights_here_and_in_fresh_processes_with_one_and_two_threads():
    here = {}
    exec(_FITS, here)
    assert len(here["digests"]) == 15
    assert weights_digests(1) == here["digests"]
    assert weights_digests(2) == here["digests"]


def test_same_weights_twice_in_one_process(estimator):
    rng = np.random.RandomState(1)
    X, y = rng.normal(size=(300, 5)), estimator.targets(rng.normal(size=300))
    digests = []
    for _ in range(2):
        model = estimator.cls((32, 16), max_iter=3, random_state=7)
        model.fit(X, y)
        digest = hashlib.sha256()
        for array in weights(model):
            digest.update(array.tobytes())
        digests.append(digest.hexdigest())
    assert digests[0] == digests[1]
