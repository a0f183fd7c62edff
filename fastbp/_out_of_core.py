"""Training on data larger than memory: ``partial_fit`` over a Dask array's
row blocks, one block in memory at a time.

Dask is imported when the function is called, never by ``import fastbp``.
"""

import math
from numbers import Integral

__all__ = ["partial_fit_blocks"]


def partial_fit_blocks(
    estimator, X, y, sample_weight=None, *, classes=None, epochs=1
):
    """Train ``estimator`` with one ``partial_fit`` call per row block of X.

    Each pass over the data computes the row blocks of ``X`` one after the
    other, each together with the matching rows of ``y`` and
    ``sample_weight`` (so that data they share is read once), and calls
    ``estimator.partial_fit`` on them; only one block is in memory at a time.
    The result is that of the same ``partial_fit`` calls on the same rows in
    memory. Blocks are visited in order: data stored in a meaningful order
    (e.g. by time) should be shuffled when it is written.

    Parameters
    ----------
    estimator : estimator with ``partial_fit``
        Trained in place, e.g. :class:`fastbp.BackpropRegressor`; with
        ``random_state`` set, every call shuffles its block the same way.
    X : dask array of shape (n_samples, n_features)
        Input, chunked along rows (e.g. ``da.from_zarr(...)``, or
        ``dataframe.to_dask_array(lengths=True)``); column chunks are merged.
        A NumPy array is split into Dask's automatic row chunks (one block
        below about 128 MiB).
    y : dask or NumPy array of shape (n_samples,) or (n_samples, n_outputs)
        Targets, rechunked to the row blocks of X.
    sample_weight : dask or NumPy array of shape (n_samples,), default=None
        Weights, rechunked to the row blocks of X.
    classes : array-like of shape (n_classes,), default=None
        For a classifier: every class of y, passed to each ``partial_fit``
        call (required by the first one, as a block may lack some classes).
    epochs : int, default=1
        Number of passes over all blocks. Empty blocks, and blocks whose
        weights are all zero, are skipped; Ctrl-C
        during a ``partial_fit`` of a fastbp estimator ends the loop (that
        call keeps its last finished epoch and warns).

    Returns
    -------
    estimator : the estimator passed in, trained.

    Examples
    --------
    >>> import dask.array as da
    >>> from fastbp import BackpropRegressor, partial_fit_blocks
    >>> X = da.random.default_rng(0).uniform(-1, 1, size=(6000, 3), chunks=(1000, 3))
    >>> y = X[:, 0] - 2 * X[:, 1] * X[:, 2]
    >>> model = BackpropRegressor((32,), random_state=0)
    >>> model = partial_fit_blocks(model, X, y, epochs=20)
    >>> model.n_iter_, model.t_  # 6 blocks x 20 passes = 120 calls
    (1, 120000)
    >>> bool(model.score(X[:1000].compute(), y[:1000].compute()) > 0.9)
    True
    """
    import dask
    import dask.array as da

    if not isinstance(epochs, Integral) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
    if y is None:
        raise ValueError("partial_fit_blocks needs targets y; got None.")
    X = da.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); it has {X.ndim}.")
    named = {"X": X.rechunk({1: -1}), "y": da.asarray(y)}
    if sample_weight is not None:
        named["sample_weight"] = da.asarray(sample_weight)
    for name, part in named.items():
        if any(math.isnan(size) for size in part.chunks[0]):
            raise ValueError(
                f"{name} has row blocks of unknown size (e.g. after boolean "
                f"indexing): call {name}.compute_chunk_sizes() first."
            )
        if part.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but {name} has {part.shape[0]}.")
    X = named["X"]
    if X.shape[0] == 0:
        raise ValueError("X has no rows: there is nothing to train on.")
    parts = [part.rechunk({0: X.chunks[0]}) for part in named.values()]
    options = {} if classes is None else {"classes": classes}
    for _ in range(epochs):
        for block in range(X.numblocks[0]):
            if X.chunks[0][block] == 0:
                continue  # an empty block (e.g. all rows filtered out)
            X_block, y_block, *weights = dask.compute(
                *(part.blocks[block] for part in parts)
            )
            if weights:
                if not weights[0].sum() > 0:
                    continue  # a block of zero weight contributes nothing
                options["sample_weight"] = weights[0]
            estimator.partial_fit(X_block, y_block, **options)
            if getattr(estimator, "_interrupted", False):
                return estimator  # Ctrl-C: partial_fit kept its state and warned
    return estimator
