"""README's Python examples and the public docstrings' examples run."""

import doctest
import re
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

import fastbp._explain
import fastbp._out_of_core
import fastbp._regressor
import fastbp.datasets._worked_example

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run_in_order():
    """Every ```python block of README, run one after the other."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 4
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)
    assert namespace["scores"].shape == (5,)
    step = namespace["explain_step"](namespace["neuron"], [[0.1, 0.3]], [0.03])
    assert round(step.error, 9) == 0.356465271


@pytest.mark.parametrize(
    "module",
    [
        fastbp._regressor,
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
