"""One estimator used from several threads at once.

Training rebuilds and updates an estimator's arrays in place, so a second
``fit`` or ``partial_fit`` running on the same estimator, or a ``predict``
reading it meanwhile, would see layer sizes and weights that do not belong
together (out-of-bounds writes in the kernels). Each estimator therefore
has a :class:`SharedExclusiveLock`: training holds it exclusively, so calls
that train the same estimator run one after the other; predictions share
it, so they still run in parallel with each other, and wait for a running
``fit`` to finish. The thread that trains may predict (e.g. a callback that
scores every epoch); other threads that a callback waits for may not (they
would wait for the fit, which waits for them). Copies and pickles are taken
under the shared hold, so that they never catch a fit half-way.
"""

import os
import threading
import weakref
from contextlib import contextmanager

__all__ = ["SharedExclusiveLock", "lock_of"]

_CREATION = threading.Lock()
_ALL = weakref.WeakSet()  # every estimator's lock, to reset after a fork


class SharedExclusiveLock:
    """Any number of shared holders, or one exclusive holder (re-entrant).

    A thread waiting for the exclusive hold keeps new shared holders out, so
    that a stream of predictions cannot hold off a fit for ever. Shared
    holds do not nest (a thread never asks for a second one while it holds
    one), except inside an exclusive hold, where they are free.
    """

    def __init__(self):
        self._reset()

    def _reset(self):
        self._condition = threading.Condition()
        self._shared = 0
        self._waiting = 0  # threads waiting for the exclusive hold
        self._owner = None  # the thread that holds it exclusively
        self._depth = 0

    @contextmanager
    def exclusive(self):
        me = threading.get_ident()
        with self._condition:
            if self._owner != me:
                self._waiting += 1
                try:
                    self._condition.wait_for(
                        lambda: self._owner is None and self._shared == 0
                    )
                finally:
                    self._waiting -= 1
                self._owner = me
            self._depth += 1
        try:
            yield
        finally:
            with self._condition:
                self._depth -= 1
                if self._depth == 0:
                    self._owner = None
                    self._condition.notify_all()

    @contextmanager
    def shared(self):
        me = threading.get_ident()
        with self._condition:
            owner = self._owner == me  # the trainer itself reads: already safe
            if not owner:
                self._condition.wait_for(
                    lambda: self._owner is None and self._waiting == 0
                )
                self._shared += 1
        try:
            yield
        finally:
            if not owner:
                with self._condition:
                    self._shared -= 1
                    if self._shared == 0:
                        self._condition.notify_all()

    def _after_fork(self):
        """In a forked child only the forking thread exists: it keeps an
        exclusive hold it had; every other hold is gone."""
        owner, depth = self._owner, self._depth
        self._reset()
        if owner == threading.get_ident():
            self._owner, self._depth = owner, depth


def lock_of(estimator):
    """The estimator's lock, created on first use (not a parameter, not
    pickled: see ``BackpropRegressor.__getstate__``)."""
    lock = estimator.__dict__.get("_lock")
    if lock is None:
        with _CREATION:
            lock = estimator.__dict__.setdefault("_lock", SharedExclusiveLock())
            _ALL.add(lock)
    return lock


def _reset_after_fork():
    """A forked child has only the forking thread: no fit or predict of the
    parent's other threads runs there, so no lock is held."""
    global _CREATION
    _CREATION = threading.Lock()
    for lock in list(_ALL):
        lock._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
