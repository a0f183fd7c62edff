"""The order of each epoch's rows, drawn ahead while the epoch before trains.

scikit-learn's stochastic solvers shuffle the rows' order before every epoch
with the estimator's random stream, each shuffle applied to the order before
it. The stream stays in Python, and a shuffle of n rows costs ~7 ns a row on
one core (``RandomState.shuffle``: 58 us for 8192 rows, a sixth of an epoch
of a network of 16 units on them). The next order depends on the stream
only, not on the weights, so a helper thread can draw it while this epoch
trains on the other core (``shuffle`` releases the GIL, as the kernels do).

The stream is consumed exactly as by shuffling before each epoch: a draw
ahead first saves the stream's state, and a draw that no epoch used (the fit
stopped: convergence, early stopping, an error, Ctrl-C) is taken back, so
that the stream after a fit is the one scikit-learn's estimator leaves, and
warm starts and ``partial_fit`` go on from it.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["AHEAD_MIN_ROWS", "EpochOrders"]

# Orders of fewer rows are drawn by the fit's thread: handing a draw to the
# helper and taking it back costs ~10 us, what a shuffle of ~1,500 rows does.
AHEAD_MIN_ROWS = 4096

_helper_lock = threading.Lock()
_helper = None


def _helper_thread():
    """The process's one helper thread for draws ahead (started when first
    needed; a forked child starts its own)."""
    global _helper
    with _helper_lock:
        if _helper is None:
            _helper = ThreadPoolExecutor(1, thread_name_prefix="fastbp-shuffle")
        return _helper


def _forget_helper():
    global _helper, _helper_lock
    _helper_lock = threading.Lock()
    _helper = None  # its thread does not exist in the child


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helper)


class EpochOrders:
    """The rows' order of each epoch of a fit.

    Parameters
    ----------
    n_samples : int
        Rows of the training data.
    random_state : numpy.random.RandomState
        The estimator's random stream.
    shuffle : bool
        Whether the order changes between epochs (the estimator's
        ``shuffle``); without, it stays ``arange(n_samples)``.
    ahead : bool
        Whether a helper thread draws the next order while an epoch trains.

    Attributes
    ----------
    current : ndarray of int64, shape (n_samples,)
        This epoch's order. Read it at each epoch: with ``ahead``, two
        arrays take turns.
    """

    def __init__(self, n_samples, random_state, shuffle, ahead):
        self.current = np.arange(n_samples)
        self._random_state = random_state
        self._shuffle = shuffle
        self._spare = np.empty_like(self.current) if shuffle and ahead else None
        self._pending = None  # the draw ahead, whose result is the state before it

    def next_epoch(self, more):
        """Make :attr:`current` the next epoch's order.

        Parameters
        ----------
        more : bool
            Whether another epoch may follow this one: the order after it is
            then drawn ahead (with ``ahead``).
        """
        if not self._shuffle:
            return
        if self._pending is None:
            self._random_state.shuffle(self.current)
        else:
            self._pending.result()
            self._pending = None
            self.current, self._spare = self._spare, self.current
        if more and self._spare is not None:
            self._pending = _helper_thread().submit(self._draw)

    def _draw(self):
        """On the helper: the order after :attr:`current` into the spare
        array; returns the stream's state before the draw."""
        state = self._random_state.get_state()
        np.copyto(self._spare, self.current)
        self._random_state.shuffle(self._spare)
        return state

    def close(self):
        """Take back a draw ahead that no epoch used, so that the random
        stream is where shuffling before each epoch leaves it."""
        if self._pending is not None:
            state = self._pending.result()
            self._pending = None
            self._random_state.set_state(state)
