"""Input checks the estimator adds to scikit-learn's validation.

- Sparse data with few stored values (at most ``SPARSE_MAX_DENSITY`` of
  its entries: one-hot encoded columns, which scikit-learn's
  ``OneHotEncoder`` returns as a sparse matrix by default) is trained on and
  predicted from as it is, in canonical CSR form (see ``_sparse``); any
  other sparse matrix is made dense, up to a memory limit. Beyond
  ``MAX_DENSE_BYTES`` the conversion is refused with the size it would
  need, instead of exhausting memory.
- Inputs and targets must be numbers: strings (numeric-looking or not) are refused
  with a message that says so, rather than an error from deep inside a
  conversion.
"""

import numpy as np
import scipy.sparse

__all__ = [
    "MAX_DENSE_BYTES",
    "SPARSE_MAX_DENSITY",
    "check_numeric",
    "dense_if_sparse",
    "dense_row_blocks",
    "network_input",
]

MAX_DENSE_BYTES = 1 << 30  # 1 GiB
# Sparse training data up to this share of stored entries stays sparse. The
# sparse first layer costs more per stored value than the dense tiles per
# entry. Measured (8192 rows, batch 200, adam, one hidden layer, seconds per
# fit of a sparse X, densified or not; AVX-512): at density 0.05 sparse is
# 1.6-1.8x faster (108 -> 16 or 64, 500 -> 256, 64 -> 1024 units), at 0.13
# 1.5x at 16 and 64 units, 1.1x at 256, even at 1024; at 0.3 even or slower
# (0.5-1.0x).
SPARSE_MAX_DENSITY = 0.15


def network_input(X):
    """``X`` as fitting and prediction validate it: a canonical CSR matrix
    (sorted indices, no duplicate entries: a copy if the caller's is not)
    for sparse data with few stored values (at most ``SPARSE_MAX_DENSITY``),
    else :func:`dense_if_sparse`'s result."""
    if _stays_sparse(X):
        return _canonical(X.tocsr())
    return dense_if_sparse(X)


def _stays_sparse(X):
    """Whether :func:`network_input` keeps ``X`` sparse: a 2-D SciPy matrix
    of real numbers with few stored values (complex ones are refused by
    :func:`dense_if_sparse`, with its message)."""
    if not scipy.sparse.issparse(X) or len(X.shape) != 2 or X.dtype.kind == "c":
        return False
    entries = X.shape[0] * X.shape[1]
    return bool(entries) and X.nnz <= SPARSE_MAX_DENSITY * entries


def _canonical(X):
    """A CSR matrix with sorted indices and no duplicate entries: ``X``
    itself when it is so, else a canonical copy (the caller's matrix is
    left as it was)."""
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def dense_if_sparse(X, name="X"):
    """Return a sparse ``X`` as a dense ndarray, anything else unchanged.

    Parameters
    ----------
    X : array-like or scipy.sparse matrix or array
        Input of shape (n_samples, n_features); a pandas data frame's sparse
        columns are made dense too.
    name : str, default="X"
        What to call ``X`` in the error message.

    Returns
    -------
    X : array-like
        ``X`` itself, or its dense copy (float32 if ``X`` is float32, else
        float64).

    Raises
    ------
    ValueError
        If the dense copy would take more than ``MAX_DENSE_BYTES``.
    """
    if _has_sparse_columns(X):
        # pandas' sparse columns: made dense, the frame (and its column
        # names) kept.
        _check_dense_size(X.shape, np.dtype(np.float64), name, "data frame")
        return X.astype(
            {c: d.subtype for c, d in X.dtypes.items() if _is_sparse_dtype(d)}
        )
    if not scipy.sparse.issparse(X):
        return X
    if X.dtype.kind == "c":
        raise ValueError(
            f"Complex data not supported: {name} is a complex sparse matrix."
        )
    dtype = np.dtype(np.float32 if X.dtype == np.float32 else np.float64)
    _check_dense_size(X.shape, dtype, name, "sparse matrix")
    return X.astype(dtype).toarray()


def dense_row_blocks(X, dtype):
    """``X``'s row blocks that may each be made dense in ``dtype``.

    ``[X]`` itself, unless ``X`` is sparse (SciPy's, or a pandas data frame
    with sparse columns), would be made dense (see :func:`network_input`)
    and its dense copy would exceed ``MAX_DENSE_BYTES``; then consecutive
    blocks of rows, each within the limit.
    """
    sparse = scipy.sparse.issparse(X)
    if (
        not (sparse or _has_sparse_columns(X))
        or len(X.shape) != 2
        or _n_bytes(X.shape, dtype) <= MAX_DENSE_BYTES
        or _stays_sparse(X)  # never made dense
    ):
        return [X]
    rows = max(1, MAX_DENSE_BYTES // _n_bytes((1, X.shape[1]), dtype))
    if sparse:
        X = X.tocsr()
        return (X[i : i + rows] for i in range(0, X.shape[0], rows))
    return (X.iloc[i : i + rows] for i in range(0, X.shape[0], rows))


def _n_bytes(shape, dtype):
    return int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize


def _is_sparse_dtype(dtype):
    return type(dtype).__name__ == "SparseDtype"  # pandas', without pandas


def _pandas_dtypes(values):
    """A pandas data frame's column dtypes (a Series), else None."""
    dtypes = getattr(values, "dtypes", None)
    if dtypes is None or not hasattr(dtypes, "items") or not hasattr(values, "columns"):
        return None  # not a data frame, or not pandas' (e.g. polars')
    return dtypes


def _has_sparse_columns(values):
    """Whether ``values`` is a pandas data frame with sparse columns."""
    dtypes = _pandas_dtypes(values)
    return dtypes is not None and any(_is_sparse_dtype(d) for d in dtypes)


def _check_dense_size(shape, dtype, name, kind):
    n_bytes = _n_bytes(shape, dtype)
    if n_bytes > MAX_DENSE_BYTES:
        raise ValueError(
            f"{name} is a {kind} of shape {shape}; fastbp trains on dense "
            f"arrays, and its dense copy would take {n_bytes / 2**20:.0f} MiB, "
            f"more than the limit of {MAX_DENSE_BYTES / 2**20:.0f} MiB. Train "
            "on row blocks with partial_fit (e.g. fastbp.partial_fit_blocks "
            "over a Dask array), reduce the number of features (e.g. with "
            f"TruncatedSVD), or pass a dense {name} if the memory is there."
        )


def check_numeric(values, name):
    """Raise a ValueError if ``values`` (X or y) hold strings or bytes.

    NumPy would parse numeric strings into numbers without a word; a
    regressor's inputs and targets are numbers, so any string is refused.

    Parameters
    ----------
    values : array-like
        X, y or sample_weight, in any form scikit-learn's validation accepts.
    name : {"X", "y", "sample_weight"}
        What to call ``values`` in the message.
    """
    if scipy.sparse.issparse(values):
        return  # sparse matrices hold numbers
    dtypes = _pandas_dtypes(values)
    if dtypes is not None:  # look only at the columns that are not numbers
        text = [c for c, d in dtypes.items() if getattr(d, "kind", "O") not in "biufc"]
        if not text:
            return
        values = values[text]
    try:
        array = np.asarray(values)
    except (ValueError, TypeError):
        return  # ragged or otherwise odd: scikit-learn's validation reports it
    if array.dtype.kind not in "USO":
        return
    if array.dtype.kind == "O":
        found = next((v for v in array.ravel() if isinstance(v, str | bytes)), None)
        if found is None:
            return
    else:
        found = array.ravel()[0] if array.size else None
        if found is None:
            return
        found = found.item() if hasattr(found, "item") else found
    if name == "y":
        advice = (
            "BackpropRegressor is a regressor and needs numeric targets. "
            "Convert them with y.astype(float) if they are numbers, or use a "
            "classifier if they are class labels."
        )
    elif name == "sample_weight":
        advice = "weights must be numbers."
    else:
        advice = (
            "the network needs numbers. Encode categories first (e.g. "
            "OneHotEncoder in a ColumnTransformer), or convert numbers stored "
            "as text with X.astype(float)."
        )
    raise ValueError(f"{name} holds strings (e.g. {found!r}): {advice}")
