"""The same random_state gives bitwise-identical weights: in one process, and
in fresh processes whatever the number of BLAS threads."""

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

from fastbp import BackpropRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Networks small and large enough for BLAS to use one or several threads;
# run in a fresh process and in the test's own.
_FITS = """
import hashlib
import numpy as np
from fastbp import BackpropRegressor
rng = np.random.RandomState(0)
X = rng.normal(size=(1000, 8))
y = np.sin(X[:, 0]) + X[:, 1]
digests = []  # SHA-256 of each configuration's coefs_ and intercepts_ bytes
# Every solver, dtype, several activations and losses; the same seeds.
for hidden, dtype, options in [
    ((16,), np.float64, {}),
    ((256, 256), np.float64, {}),
    ((300, 300), np.float32, {}),
    ((16, 8), np.float32, dict(solver="sgd", activation="tanh", loss="huber")),
    ((12,), np.float64, dict(solver="lbfgs", activation="logistic")),
    ((12,), np.float32, dict(solver="lbfgs", loss="absolute_error")),
    ((8,), np.float64, dict(activation="elu", loss="poisson")),
    ((8,), np.float64, dict(activation="leaky_relu", early_stopping=True)),
]:
    model = BackpropRegressor(hidden, max_iter=2, random_state=0, **options)
    target = np.abs(y) if options.get("loss") == "poisson" else y
    model.fit(X.astype(dtype), target.astype(dtype))
    digest = hashlib.sha256()
    for array in model.coefs_ + model.intercepts_:
        digest.update(array.tobytes())
    digests.append(digest.hexdigest())
"""
_CHILD = "import warnings; warnings.simplefilter('ignore')" + _FITS + "print(*digests)"


def weights_digests(threads):
    env = dict(
        os.environ,
        OPENBLAS_NUM_THREADS=str(threads),
        OMP_NUM_THREADS=str(threads),
        NUMBA_NUM_THREADS=str(threads),
    )
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_same_weights_here_and_in_fresh_processes_with_one_and_two_threads():
    here = {}
    exec(_FITS, here)
    assert len(here["digests"]) == 8
    assert weights_digests(1) == here["digests"]
    assert weights_digests(2) == here["digests"]


def test_same_weights_twice_in_one_process():
    rng = np.random.RandomState(1)
    X, y = rng.normal(size=(300, 5)), rng.normal(size=300)
    digests = []
    for _ in range(2):
        model = BackpropRegressor((32, 16), max_iter=3, random_state=7)
        model.fit(X, y)
        digest = hashlib.sha256()
        for array in model.coefs_ + model.intercepts_:
            digest.update(array.tobytes())
        digests.append(digest.hexdigest())
    assert digests[0] == digests[1]
