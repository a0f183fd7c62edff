"""Where each layer's weights live in the flat parameter buffer.

All weight matrices ``W`` (fan_in, fan_out) of all layers come first, in layer
order, then all intercepts ``b`` (fan_out,): the order of scikit-learn's
``_pack``. The estimator's ``coefs_`` and ``intercepts_`` are views into the
buffer, and the optimizer's state arrays have the same layout, so that an
update is a single loop over one array.
"""

import numpy as np

from ._jit import jit


def parameter_offsets(units):
    """Start of each weight matrix and each intercept in the flat buffer.

    Parameters
    ----------
    units : array-like of int, shape (n_layers,)
        Number of units per layer, input and output layers included.

    Returns
    -------
    offsets : ndarray of int64, shape (2 * (n_layers - 1) + 1,)
        ``offsets[l]`` is where ``W`` of layer ``l`` starts,
        ``offsets[L + l]`` where its intercept starts (``L = n_layers - 1``),
        and ``offsets[-1]`` is the total number of parameters.
    """
    units = np.asarray(units, dtype=np.int64)
    sizes = np.concatenate([units[:-1] * units[1:], units[1:]])
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def parameter_views(params, units, offsets):
    """Split the flat buffer into lists of weight and intercept views.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
    units : ndarray of int64, shape (n_layers,)
    offsets : ndarray of int64, from :func:`parameter_offsets`

    Returns
    -------
    coefs : list of ndarray of shape (fan_in, fan_out)
    intercepts : list of ndarray of shape (fan_out,)
    """
    n_weight_layers = len(units) - 1
    coefs, intercepts = [], []
    for layer in range(n_weight_layers):
        start = offsets[layer]
        coefs.append(
            params[start : start + units[layer] * units[layer + 1]].reshape(
                units[layer], units[layer + 1]
            )
        )
        start = offsets[n_weight_layers + layer]
        intercepts.append(params[start : start + units[layer + 1]])
    return coefs, intercepts


def pack_parameters(coefs, intercepts, dtype):
    """Copy lists of weights and intercepts into a new flat buffer.

    Parameters
    ----------
    coefs : list of array-like of shape (fan_in, fan_out)
    intercepts : list of array-like of shape (fan_out,)
    dtype : numpy dtype of the buffer

    Returns
    -------
    params : ndarray of shape (n_params,)
    """
    parts = [np.asarray(c, dtype=dtype).ravel() for c in coefs]
    parts += [np.asarray(b, dtype=dtype).ravel() for b in intercepts]
    return np.ascontiguousarray(np.concatenate(parts), dtype=dtype)


@jit
def coef_view(params, units, offsets, layer):
    """``W`` of ``layer`` as a (fan_in, fan_out) view of ``params``."""
    start = offsets[layer]
    size = units[layer] * units[layer + 1]
    return params[start : start + size].reshape(units[layer], units[layer + 1])


@jit
def intercept_view(params, units, offsets, layer):
    """``b`` of ``layer`` as a (fan_out,) view of ``params``."""
    start = offsets[units.shape[0] - 1 + layer]
    return params[start : start + units[layer + 1]]


@jit
def layer_view(buffer, units, layer, n_rows):
    """Rows ``0..n_rows`` of ``layer``'s block in a per-layer workspace.

    The workspace holds, for each layer ``l``, a (batch_capacity, units[l])
    block; blocks are laid out one after the other.
    """
    capacity = buffer.shape[0] // units.sum()
    start = capacity * units[:layer].sum()
    return buffer[start : start + n_rows * units[layer]].reshape(n_rows, units[layer])
