"""The state training falls back to: the last finished epoch, the best one.

One mechanism serves every solver. The epoch loop saves the parameters and
the optimizer's state after each finished epoch, L-BFGS saves its iterate
after each iteration; on divergence (a non-finite loss or weight) or Ctrl-C
the last saved state is restored. With early stopping, the parameters of the
epoch with the best validation score are kept apart and restored at the end.
"""

__all__ = ["Checkpoint"]


class Checkpoint:
    """Copies of the live training arrays, saved and restored in place.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
        The flat parameter buffer that training updates in place.
    state : ndarray of shape (2, n_params) or None
        The optimizer's state (velocity, or Adam's moments); None for L-BFGS,
        whose memory lives in SciPy.
    best : ndarray of shape (n_params,) or None
        Where the best parameters are kept (early stopping), or None.
    """

    def __init__(self, params, state=None, best=None):
        self.params, self.state, self.best = params, state, best
        self._params = params.copy()
        self._state = None if state is None else state.copy()
        # L-BFGS's iterates, saved into one of two buffers in turn and
        # published with their iteration count by one assignment, so that a
        # Ctrl-C at any point finds a saved iterate and its own count.
        self._spare = None
        self._saved = (0, self._params)

    def save(self, params=None):
        """Save the live state; ``params`` (e.g. L-BFGS's float64 iterate) in
        place of the live parameters if given."""
        self._params[:] = self.params if params is None else params
        if self.state is not None:
            self._state[:] = self.state

    def save_iterate(self, params, count):
        """Save an iterate (L-BFGS's ``count``-th) beside the last one."""
        if self._spare is None:
            self._spare = self._params.copy()
        spare = self._spare
        spare[:] = params
        self._spare = self._saved[1]
        self._saved = (count, spare)  # one assignment publishes both

    def restore(self):
        """Put the last saved state back into the live arrays."""
        self.params[:] = self._params
        if self.state is not None:
            self.state[:] = self._state

    def restore_iterate(self):
        """Put the last saved iterate back; return its count (0: the
        parameters training started from)."""
        count, params = self._saved
        self.params[:] = params
        return count

    def keep_best(self):
        """The live parameters are the best so far: keep a copy."""
        self.best[:] = self.params

    def restore_best(self):
        """Put the best parameters back into the live buffer."""
        self.params[:] = self.best
