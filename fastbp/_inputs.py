"""Input checks the estimator adds to scikit-learn's validation.

- Sparse matrices are accepted by making them dense, up to a memory limit:
  the kernels gather rows of a dense C-contiguous array, so a sparse X would
  be densified anyway, and a one-hot encoded X (scikit-learn's
  ``OneHotEncoder`` returns sparse output by default) is usually small when
  dense. Beyond ``MAX_DENSE_BYTES`` (e.g. a large bag-of-words matrix) the
  conversion is refused with the size it would need, instead of exhausting
  memory.
- Targets must be numbers: strings (numeric-looking or not) are refused
  with a message that says so, rather than an error from deep inside a
  conversion.
"""

import numpy as np
import scipy.sparse

__all__ = ["MAX_DENSE_BYTES", "check_numeric_target", "dense_if_sparse"]

MAX_DENSE_BYTES = 1 << 30  # 1 GiB


def dense_if_sparse(X, name="X"):
    """Return a sparse ``X`` as a dense ndarray, anything else unchanged.

    Parameters
    ----------
    X : array-like or scipy.sparse matrix or array
        Input of shape (n_samples, n_features).
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
    if not scipy.sparse.issparse(X):
        return X
    dtype = np.dtype(np.float32 if X.dtype == np.float32 else np.float64)
    n_bytes = int(np.prod(X.shape, dtype=np.int64)) * dtype.itemsize
    if n_bytes > MAX_DENSE_BYTES:
        raise ValueError(
            f"{name} is a sparse matrix of shape {X.shape}; fastbp trains on "
            f"dense arrays, and its dense copy would take {n_bytes / 2**20:.0f} "
            f"MiB, more than the limit of {MAX_DENSE_BYTES / 2**20:.0f} MiB. "
            "Reduce the number of features (e.g. with TruncatedSVD), or pass "
            f"{name}.toarray() if the memory is there."
        )
    return X.astype(dtype).toarray()


def check_numeric_target(y):
    """Raise a ValueError if the targets ``y`` hold strings or bytes.

    Parameters
    ----------
    y : array-like
        Targets, in any form scikit-learn's validation accepts.
    """
    try:
        array = np.asarray(y)
    except (ValueError, TypeError):
        return  # ragged or otherwise odd: scikit-learn's validation reports it
    if array.dtype.kind in "USO":
        if array.dtype.kind == "O":
            found = [v for v in array.ravel() if isinstance(v, str | bytes)][:1]
        else:
            found = array.ravel()[:1].tolist()
        if found:
            raise ValueError(
                f"y holds strings (e.g. {found[0]!r}): BackpropRegressor is a "
                "regressor and needs numeric targets. Convert them with "
                "y.astype(float) if they are numbers, or use a classifier if "
                "they are class labels."
            )
