"""The vectorised exponential of the softmax against NumPy's."""

import numpy as np
import pytest

from fastbp._exp import exp, exp32
from fastbp._jit import jit


@jit
def _exp_of_each(x, out):
    for i in range(x.shape[0]):
        out[i] = exp(x[i])


def _exp(x):
    out = np.empty_like(x)
    _exp_of_each(x, out)
    return out


@pytest.mark.parametrize(
    "x",
    [
        np.linspace(-30, 30, 100_001),  # the softmax's usual range
        np.linspace(-745.5, 709.9, 200_001),  # to the overflow threshold
        np.linspace(-745.2, -700, 50_001),  # subnormal results
        np.random.RandomState(0).standard_cauchy(100_000),
    ],
    ids=["usual", "whole-range", "subnormal", "cauchy"],
)
def test_within_one_unit_in_the_last_place_of_numpy(x):
    with np.errstate(over="ignore"):
        expected = np.exp(x)
    got = _exp(x)
    finite = np.isfinite(expected)
    ulps = np.abs(got[finite] - expected[finite]) / np.spacing(expected[finite])
    assert ulps.max() <= 1.0
    assert np.array_equal(got[~finite], expected[~finite])


def test_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 710.0, -746.0, 1e308, -1e308])
    with np.errstate(over="ignore"):
        expected = np.exp(x)
    np.testing.assert_array_equal(_exp(x), expected)


def test_float32_within_one_and_a_half_units_of_the_exact_value():
    """exp32 against float64's exp rounded: NumPy's own float32 exp is
    within 2.4 units in the last place of it."""

    @jit
    def exp32_of_each(x, out):
        for i in range(x.shape[0]):
            out[i] = exp32(x[i])

    x = np.concatenate(
        [np.linspace(-110, 95, 400_001), 10 * np.random.RandomState(0).normal(size=10**5)]
    ).astype(np.float32)
    got = np.empty_like(x)
    exp32_of_each(x, got)
    with np.errstate(over="ignore"):
        exact = np.exp(x.astype(np.float64))
        rounded = exact.astype(np.float32)
    finite = np.isfinite(rounded) & (rounded > 0)
    ulps = np.abs(got[finite] - exact[finite]) / np.spacing(rounded[finite])
    assert got.dtype == np.float32 and ulps.max() <= 1.5
    assert np.array_equal(got[~finite], rounded[~finite])
