"""Tests of fastbp._layout against the NumPy references in naive.py."""

import itertools

import naive
import numpy as np
import pytest

from fastbp._layout import (
    coef_view,
    intercept_view,
    layer_view,
    pack_parameters,
    parameter_offsets,
    parameter_views,
)

DTYPES = [np.float32, np.float64]
UNITS = [[3, 1], [4, 5, 2], [3, 6, 4, 1]]


def _random_network(units, seed=0):
    rng = np.random.default_rng(seed)
    coefs = [rng.standard_normal((i, o)) for i, o in itertools.pairwise(units)]
    intercepts = [rng.standard_normal(o) for o in units[1:]]
    return coefs, intercepts


def test_parameter_offsets_hand_worked():
    """units (3, 4, 2): W0 has 12 values, W1 8, b0 4, b1 2."""
    offsets = parameter_offsets([3, 4, 2])
    np.testing.assert_array_equal(offsets, [0, 12, 20, 24, 26])
    assert offsets.dtype == np.int64


@pytest.mark.parametrize("units", UNITS)
def test_parameter_offsets_match_reference(units):
    """Each offset is where that array starts in naive.pack's vector."""
    coefs, intercepts = _random_network(units)
    starts = np.cumsum([0] + [a.size for a in coefs + intercepts])
    np.testing.assert_array_equal(parameter_offsets(units), starts)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("units", UNITS)
def test_pack_parameters_matches_reference(dtype, units):
    """pack_parameters lays out all weights, then all intercepts, in dtype."""
    coefs, intercepts = _random_network(units)
    params = pack_parameters(coefs, intercepts, dtype)
    assert params.dtype == dtype
    assert params.flags.c_contiguous
    np.testing.assert_array_equal(params, naive.pack(coefs, intercepts).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("units", UNITS)
def test_parameter_views_round_trip(dtype, units):
    """parameter_views gives back the arrays that were packed."""
    coefs, intercepts = _random_network(units)
    units = np.asarray(units, dtype=np.int64)
    params = pack_parameters(coefs, intercepts, dtype)
    got_coefs, got_intercepts = parameter_views(params, units, parameter_offsets(units))
    assert len(got_coefs) == len(coefs) and len(got_intercepts) == len(intercepts)
    for got, expected in zip(got_coefs + got_intercepts, coefs + intercepts):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, expected.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("units", UNITS)
def test_parameter_views_share_memory(dtype, units):
    """Writing to a view writes the flat buffer, at the packed position."""
    coefs, intercepts = _random_network(units)
    units = np.asarray(units, dtype=np.int64)
    params = pack_parameters(coefs, intercepts, dtype)
    views_W, views_b = parameter_views(params, units, parameter_offsets(units))
    for view in views_W + views_b:
        view[...] = 0.0
    for layer, view in enumerate(views_W + views_b):
        view.flat[-1] = layer + 1
    expected = naive.pack(
        [np.zeros_like(c) for c in coefs], [np.zeros_like(b) for b in intercepts]
    )
    ends = np.cumsum([a.size for a in coefs + intercepts]) - 1
    expected[ends] = np.arange(1, len(ends) + 1)
    np.testing.assert_array_equal(params, expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("units", UNITS)
def test_coef_view_matches_parameter_views(dtype, units):
    """The compiled coef_view is the same view as parameter_views' one."""
    coefs, intercepts = _random_network(units)
    units = np.asarray(units, dtype=np.int64)
    offsets = parameter_offsets(units)
    params = pack_parameters(coefs, intercepts, dtype)
    views, _ = parameter_views(params, units, offsets)
    for layer, expected in enumerate(views):
        got = coef_view(params, units, offsets, layer)
        assert got.shape == expected.shape
        assert got.ctypes.data == expected.ctypes.data
        np.testing.assert_array_equal(got, coefs[layer].astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("units", UNITS)
def test_intercept_view_matches_parameter_views(dtype, units):
    """The compiled intercept_view is the same view as parameter_views' one."""
    coefs, intercepts = _random_network(units)
    units = np.asarray(units, dtype=np.int64)
    offsets = parameter_offsets(units)
    params = pack_parameters(coefs, intercepts, dtype)
    _, views = parameter_views(params, units, offsets)
    for layer, expected in enumerate(views):
        got = intercept_view(params, units, offsets, layer)
        assert got.shape == expected.shape
        assert got.ctypes.data == expected.ctypes.data
        np.testing.assert_array_equal(got, intercepts[layer].astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("units", UNITS)
@pytest.mark.parametrize("n_rows", [1, 4, 6])
def test_layer_view_matches_blocks(dtype, units, n_rows):
    """layer_view is the first n_rows rows of the layer's (capacity, units) block."""
    rng = np.random.default_rng(2)
    capacity = 6
    blocks = [rng.standard_normal((capacity, u)).astype(dtype) for u in units]
    buffer = np.concatenate([block.ravel() for block in blocks])
    units = np.asarray(units, dtype=np.int64)
    for layer, block in enumerate(blocks):
        view = layer_view(buffer, units, layer, n_rows)
        np.testing.assert_array_equal(view, block[:n_rows])
        view[...] = -layer - 1  # a view: the buffer changes
        block[:n_rows] = -layer - 1
    np.testing.assert_array_equal(buffer, np.concatenate([b.ravel() for b in blocks]))
