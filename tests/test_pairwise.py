"""Sums in NumPy's order: the same bits as NumPy's row sums."""

import numpy as np
import pytest

from fastbp._pairwise import pairwise_sum


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 2, 7, 8, 9, 10, 16, 23, 128, 129, 300, 1001])
def test_bit_identical_to_numpys_row_sums(dtype, n):
    rows = np.random.RandomState(n).standard_cauchy((20, n)).astype(dtype)
    flat = rows.ravel()
    got = np.array([pairwise_sum(flat, i * n, n) for i in range(20)], dtype=dtype)
    np.testing.assert_array_equal(got, rows.sum(axis=1))
