"""A network's first layer on sparse input rows, without making them dense.

One-hot encoded tabular data (scikit-learn's ``OneHotEncoder`` returns a
sparse matrix by default) is mostly zeros: the Adult census data's 108
columns hold 14 stored values per row. On such input the first layer's
forward pass and weight gradient take the stored values only
(``_gemm.sparse_matmul`` and ``sparse_matmul_transposed``): the dense
products' sums in the dense products' order (``_gemm.matmul``'s, or
``_gemm.matvec``'s lanes for a one-unit layer) with the zero terms left
out, hence their bits (apart from the sign of a zero sum, which no later
step can tell).

Kernel types. The training data's CSR matrix travels as ``X = (values,
indices, indptr)`` (int64 indices, sorted within each row, no duplicates),
a batch of it as ``(values, indices, indptr, rows)``, ``rows`` the batch's
row numbers. :func:`gather_input`, :func:`input_chunk`,
:func:`input_forward` and :func:`input_gradient` take a dense array or these
tuples alike (Numba picks the implementation by type), so that
``_network``'s kernels (training and prediction) serve both.
"""

import numpy as np
from numba.core import types
from numba.extending import overload

from ._activations import add_bias_and_activate
from ._dense import dense_forward, dense_gradient, finish_gradient
from ._gemm import MR, panel_width, sparse_matmul, sparse_matmul_transposed
from ._jit import jit
from ._team import part

__all__ = [
    "batch_input",
    "csr_forward",
    "csr_gradient",
    "gather_input",
    "input_chunk",
    "input_forward",
    "input_gradient",
    "kernel_input",
]


@jit
def csr_forward(batch, W, b, A, code, team):
    """Write ``f(X_batch @ W + b)`` into ``A`` for a sparse batch; a member
    of a ``team`` (see ``_team``) writes a block of rows."""
    values, indices, indptr, rows = batch
    start, stop = part(rows.shape[0], MR, team)
    sparse_matmul(values, indices, indptr, rows[start:stop], W, A[start:stop])
    add_bias_and_activate(A[start:stop], b, code)


@jit
def csr_gradient(batch, delta, W, alpha, weight_sum, dW, db, team):
    """:func:`_dense.dense_gradient` for a sparse batch; a member of a
    ``team`` writes a block of dW's columns (member 0 all of them when
    there are fewer than two tiles of them)."""
    values, indices, indptr, rows = batch
    if team[2] == 1:
        sparse_matmul_transposed(values, indices, indptr, rows, delta, dW)
        finish_gradient(delta, W, alpha, weight_sum, dW, db)
        return
    fan_out = W.shape[1]
    width = panel_width(dW)
    if fan_out >= 2 * width:
        start, stop = part(fan_out, width, team)
    else:
        start, stop = (0, fan_out) if team[1] == 0 else (0, 0)
    if stop > start:
        sparse_matmul_transposed(values, indices, indptr, rows,
                                 delta[:, start:stop], dW[:, start:stop])  # fmt: skip
        finish_gradient(delta[:, start:stop], W[:, start:stop], alpha,
                        weight_sum, dW[:, start:stop], db[start:stop])  # fmt: skip


def gather_input(X, rows, A0):
    """The first layer's input for the batch of rows ``rows`` of ``X``:
    dense, the rows copied into ``A0`` (returned); sparse, the batch tuple
    (see the module docstring)."""


def batch_input(X, rows, A0):
    """The first layer's input for the batch of rows ``rows`` of ``X`` once
    :func:`gather_input` has gathered them: dense, ``A0``; sparse, the batch
    tuple."""


def input_chunk(X, rows, start, stop):
    """Rows ``start:stop`` of ``X`` as a batch: dense, a view; sparse, the
    batch tuple, its row numbers written into ``rows``."""


def input_forward(batch, W, b, A, code, threads, team):
    """The first layer's forward pass on a dense or sparse batch."""


def input_gradient(batch, delta, W, alpha, weight_sum, dW, db, threads, team):
    """The first layer's gradients on a dense or sparse batch."""


def _is_dense(X):
    return isinstance(X, types.Array)


@overload(gather_input)
def _gather_input(X, rows, A0):
    if _is_dense(X):

        def gather_dense(X, rows, A0):
            for r in range(rows.shape[0]):
                src = rows[r]
                for k in range(X.shape[1]):
                    A0[r, k] = X[src, k]
            return A0

        return gather_dense
    return lambda X, rows, A0: (X[0], X[1], X[2], rows)


@overload(batch_input)
def _batch_input(X, rows, A0):
    if _is_dense(X):
        return lambda X, rows, A0: A0
    return lambda X, rows, A0: (X[0], X[1], X[2], rows)


@overload(input_chunk)
def _input_chunk(X, rows, start, stop):
    if _is_dense(X):
        return lambda X, rows, start, stop: X[start:stop]

    def sparse_chunk(X, rows, start, stop):
        for r in range(stop - start):
            rows[r] = start + r
        return (X[0], X[1], X[2], rows[: stop - start])

    return sparse_chunk


@overload(input_forward)
def _input_forward(batch, W, b, A, code, threads, team):
    if _is_dense(batch):
        return lambda batch, W, b, A, code, threads, team: dense_forward(
            batch, W, b, A, code, threads, team
        )
    return lambda batch, W, b, A, code, threads, team: csr_forward(
        batch, W, b, A, code, team
    )


@overload(input_gradient)
def _input_gradient(batch, delta, W, alpha, weight_sum, dW, db, threads, team):
    if _is_dense(batch):
        return lambda batch, delta, W, alpha, weight_sum, dW, db, threads, team: (
            dense_gradient(batch, delta, W, alpha, weight_sum, dW, db, threads, team)
        )
    return lambda batch, delta, W, alpha, weight_sum, dW, db, threads, team: (
        csr_gradient(batch, delta, W, alpha, weight_sum, dW, db, team)
    )


def kernel_input(X):
    """``X`` as the kernels take it: a dense array as it is, a CSR matrix
    (canonical, see ``_inputs.network_input``) as ``(values, indices,
    indptr)``, indices int64."""
    if not hasattr(X, "indptr"):
        return X
    return (
        np.ascontiguousarray(X.data),
        np.asarray(X.indices, dtype=np.int64),
        np.asarray(X.indptr, dtype=np.int64),
    )
