"""Borrowed arrays: the same memory, shape and strides, without an owner."""

import numpy as np
from numpy.testing import assert_array_equal

from fastbp._borrow import borrow
from fastbp._jit import jit


@jit
def _borrowed_shape_strides_and_sum(a):
    b = borrow(a)
    return b.shape, b.strides, b.sum(), b.ctypes.data == a.ctypes.data


@jit
def _write_through_view(a, value):
    b = borrow(a)
    view = b[1:, ::2]
    view[0, 0] = value


@jit
def _nested(value):
    (a, (b, k), flag), x = borrow(value)
    a[0] += k
    b[-1] = x if flag else -x
    return a.sum() + b.sum()


@jit
def _borrowed_in_a_loop(a, reps):
    # Views of a borrowed array taken and passed many times, as an epoch
    # takes them: the values are the managed array's.
    b = borrow(a)
    total = 0.0
    for r in range(reps):
        total += _row_total(b[r % b.shape[0]])
    return total


@jit
def _row_total(row):
    return row.sum()


def test_a_borrowed_array_is_the_same_memory_shape_and_strides():
    a = np.arange(12.0).reshape(3, 4)[:, 1:]  # not contiguous
    shape, strides, total, same_data = _borrowed_shape_strides_and_sum(a)
    assert shape == a.shape
    assert strides == a.strides
    assert total == a.sum()
    assert same_data


def test_writes_through_a_borrowed_view_reach_the_array():
    a = np.zeros((3, 4), dtype=np.float32)
    _write_through_view(a, 7.0)
    expected = np.zeros((3, 4), dtype=np.float32)
    expected[1, 0] = 7.0
    assert_array_equal(a, expected)


def test_tuples_nest_and_scalars_pass_through():
    a, b = np.ones(3), np.zeros(4, dtype=np.int64)
    total = _nested(((a, (b, 2.0), True), 5))
    assert_array_equal(a, [3.0, 1.0, 1.0])
    assert_array_equal(b, [0, 0, 0, 5])
    assert total == 5.0 + 5


def test_views_of_a_borrowed_array_give_the_managed_array_values():
    a = np.random.RandomState(0).normal(size=(5, 7))
    expected = sum(a[r % 5].sum() for r in range(23))
    assert _borrowed_in_a_loop(a, 23) == expected
