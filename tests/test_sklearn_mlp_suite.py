"""scikit-learn's own MLP tests, run against fastbp's two estimators.

The installed scikit-learn's ``sklearn/neural_network/tests/test_mlp.py`` is
copied with its import switched to ``BackpropClassifier as MLPClassifier``
and ``BackpropRegressor as MLPRegressor``, and run by pytest in a fresh
process, with scikit-learn's conftest for its ``global_random_seed``
fixture. Every test must pass but those that read scikit-learn's private
attributes, which fastbp's estimators do not have (listed below with the
attribute each needs).
"""

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sklearn.neural_network.tests.test_mlp as sklearn_mlp_tests

SKLEARN_IMPORT = "from sklearn.neural_network import MLPClassifier, MLPRegressor\n"
FASTBP_IMPORT = (
    "from fastbp import BackpropClassifier as MLPClassifier\n"
    "from fastbp import BackpropRegressor as MLPRegressor\n"
)
# Test name: the private attribute of scikit-learn's estimators it reads.
NEEDS_PRIVATE = {
    "test_gradient": "_loss_grad_lbfgs",
    "test_learning_rate_warmstart": "_optimizer",
    "test_adaptive_learning_rate": "_optimizer",
}


def _switched_source():
    source = Path(sklearn_mlp_tests.__file__).read_text()
    assert source.count(SKLEARN_IMPORT) == 1, "test_mlp.py's import line changed"
    return source.replace(SKLEARN_IMPORT, FASTBP_IMPORT)


def test_the_excluded_tests_read_the_private_attributes_they_are_listed_with():
    for name, attribute in NEEDS_PRIVATE.items():
        test = getattr(sklearn_mlp_tests, name)
        assert f".{attribute}" in inspect.getsource(test), (name, attribute)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_scikit_learns_mlp_tests_pass_on_fastbp(tmp_path):
    path = tmp_path / "test_mlp_fastbp.py"
    path.write_text(_switched_source())
    deselect = [f"--deselect={path.name}::{name}" for name in NEEDS_PRIVATE]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "sklearn.conftest", "-q",
         "-p", "no:cacheprovider", path.name, *deselect],
        cwd=tmp_path, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    summary = result.stdout.strip().splitlines()[-1]
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    # Every test function ran (none skipped, none lost to a collection error).
    n_tests = len(re.findall(r"^def test_", path.read_text(), flags=re.M))
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= n_tests - len(NEEDS_PRIVATE), summary
    assert "skipped" not in summary and "xfail" not in summary, summary
    assert f"{len(NEEDS_PRIVATE)} deselected" in summary, summary
