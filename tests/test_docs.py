"""README's Python examples and the public docstrings' examples run."""

import doctest
import re
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

import fastbp._classifier
import fastbp._display
import fastbp._explain
import fastbp._out_of_core
import fastbp._regressor
import fastbp.onnx
import fastbp.datasets._worked_example

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# README, then the documentation's Markdown pages that continue it, in the
# order their examples build on each other.
PAGES = [README] + [ROOT / "docs" / name for name in
                    ("ecosystem.md", "onnx.md", "backprop_by_hand.md")]  # fmt: skip


def readme_python_blocks():
    """(info string, code) of every ```python block of README and of the
    pages that continue it, in order."""
    return [
        block
        for page in PAGES
        for block in re.findall(r"```(python[^\n]*)\n(.*?)```", page.read_text(),
                                flags=re.S)  # fmt: skip
    ]


def test_readme_python_blocks_run_in_order(tmp_path, monkeypatch):
    """Every ```python block of README and its pages, run one after the
    other (in an empty directory, for the files they write). A block marked ```python no-run
    needs a service outside the tests (a Dask scheduler): it is compiled."""
    blocks = readme_python_blocks()
    assert len(blocks) >= 8
    monkeypatch.chdir(tmp_path)
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for info, block in blocks:
            code = compile(block, "README and docs", "exec")
            if info.split() == ["python"]:
                exec(code, namespace)
            else:
                assert info.split() == ["python", "no-run"]
    assert namespace["scores"].shape == (5,)
    assert namespace["loaded"].predict(namespace["houses"]).shape == (300,)
    assert namespace["streamed"].t_ == 10 * namespace["X_big"].shape[0]
    assert namespace["classifier"].score(namespace["X_digits"] / 16,
                                         namespace["labels"]) > 0.95
    assert namespace["stream"].t_ == len(namespace["X_digits"])
    assert (tmp_path / "loss_curves.png").stat().st_size > 0
    assert (namespace["onnx_labels"] == namespace["classifier"].predict(
        namespace["X_digits"][:3] / 16)).all()
    assert set(namespace["churn"].predict(namespace["customers"])) <= {"left",
                                                                        "stayed"}
    step = namespace["explain_step"](namespace["neuron"], [[0.1, 0.3]], [0.03])
    assert round(step.error, 9) == 0.356465271


@pytest.mark.parametrize(
    "module",
    [
        fastbp._classifier,
        fastbp._display,
        fastbp._regressor,
        fastbp.onnx,
        fastbp._explain,
        fastbp._out_of_core,
        fastbp.datasets._worked_example,
    ],
)
def test_docstring_examples(module):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
