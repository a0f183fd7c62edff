"""A team of threads that trains one mini-batch together.

Numba's parallel regions cost a few microseconds each (measured with TBB on
2 cores: 6-7 us), more than a whole layer of a small network takes, so a fit
could only split its largest products. A team instead runs the whole epoch
on every member at once: the same loop over the same batches, each member
computing its part of every step (:func:`part`), the members meeting at a
barrier between steps (:func:`barrier`: two atomic operations and a spin,
~80 ns between two cores). The parts split outputs, never a sum: every
element is computed by one member, exactly as the serial kernels compute
it, so the results are bit-identical to serial whatever the team's size.

A team is ``(sync, rank, ranks)``: ``sync`` an int64 array shared by the
members (:func:`new_sync`), ``rank`` this member's number, ``ranks`` the
team's size. ``(sync, 0, 1)`` (:func:`solo`) is one thread alone: no
barrier waits, every part is the whole.

Member 0 is the fit's own thread; the others are Python threads running
:func:`serve_epochs` (started by ``_stochastic``) for the duration of a fit,
which wait, spinning, for each epoch that member 0 starts.
"""

import sys
import threading

import llvmlite.binding as llvm
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from ._jit import jit

__all__ = ["EpochTeam", "barrier", "new_sync", "part", "solo"]

# Slots of ``sync``, each on a cache line of its own.
ARRIVED = 0  # members at the barrier now
GENERATION = 8  # barriers passed
EPOCH = 16  # epochs started by member 0
STEP = 24  # the optimizer's step count before the epoch started
ABORT = 32  # 1 once the team is dismissed: barriers no longer wait
IDLE = 36  # 1 while member 0 trains alone: the others sleep
SYNC_SIZE = 40 + 8 * 64  # then one line per member: epochs it served
SERVED = 40

# The spin's hint to the CPU (x86's ``pause``); other CPUs spin without one.
_PAUSE = (
    "llvm.x86.sse2.pause"
    if llvm.get_process_triple().startswith(("x86_64", "i686"))
    else None
)
# A member waiting at a barrier gives its core away (``sched_yield``) after
# this many spins (tens of microseconds): when another process's threads
# spin on the same cores (an OpenMP pool after its parallel region), the
# member that the others wait for gets a core. Measured in the benchmark
# report's rounds (fits of each library in turn), (1024,) float32: 0.57x one
# thread's speed without, 1.36x with; (64,) * 8 float32 0.76x, 1.34x.
SPINS_BEFORE_YIELD = 1000
_YIELD = "sched_yield" if sys.platform.startswith(("linux", "darwin")) else None


def new_sync():
    """A zeroed ``sync`` array for a new team."""
    return np.zeros(SYNC_SIZE, dtype=np.int64)


def _slot(context, builder, signature, array, index):
    data = context.make_array(signature.args[0])(context, builder, array).data
    return builder.gep(data, [index])


@intrinsic
def _atomic_add(typingctx, sync, index, value):
    """``sync[index] += value`` atomically (sequentially consistent); returns
    the value before."""

    def codegen(context, builder, signature, args):
        slot = _slot(context, builder, signature, args[0], args[1])
        return builder.atomic_rmw("add", slot, args[2], "seq_cst")

    return types.int64(sync, index, value), codegen


@intrinsic
def _atomic_load(typingctx, sync, index):
    """``sync[index]``, read atomically (sequentially consistent)."""

    def codegen(context, builder, signature, args):
        slot = _slot(context, builder, signature, args[0], args[1])
        return builder.load_atomic(slot, "seq_cst", 8)

    return types.int64(sync, index), codegen


@intrinsic
def _atomic_store(typingctx, sync, index, value):
    """``sync[index] = value`` atomically (sequentially consistent)."""

    def codegen(context, builder, signature, args):
        slot = _slot(context, builder, signature, args[0], args[1])
        builder.store_atomic(args[2], slot, "seq_cst", 8)
        return context.get_dummy_value()

    return types.void(sync, index, value), codegen


@intrinsic
def _yield_core(typingctx):
    """Give this thread's core to another thread (``sched_yield``), where
    the C library has it; else nothing."""

    def codegen(context, builder, signature, args):
        if _YIELD is not None:
            module = builder.module
            function = module.globals.get(_YIELD)
            if function is None:
                function = ir.Function(module, ir.FunctionType(ir.IntType(32), []), _YIELD)
            builder.call(function, [])
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def _spin_hint(typingctx):
    """Tell the CPU that this thread spins (x86's ``pause``), if it can."""

    def codegen(context, builder, signature, args):
        if _PAUSE is not None:
            module = builder.module
            function = module.globals.get(_PAUSE)
            if function is None:
                function = ir.Function(module, ir.FunctionType(ir.VoidType(), []), _PAUSE)
            builder.call(function, [])
        return context.get_dummy_value()

    return types.void(), codegen


@jit
def solo():
    """The team of one thread alone."""
    return (np.zeros(SYNC_SIZE, dtype=np.int64), 0, 1)


@jit
def barrier(team):
    """Wait until every member of ``team`` has reached this barrier.

    What a member wrote before it is seen by every member after it. Returns
    at once for a team of one, and once the team is dismissed (:func:`abort`).
    """
    sync, rank, ranks = team
    if ranks == 1:
        return
    generation = _atomic_load(sync, GENERATION)
    if _atomic_add(sync, ARRIVED, 1) == ranks - 1:
        _atomic_store(sync, ARRIVED, 0)
        _atomic_add(sync, GENERATION, 1)
        return
    spins = 0
    while _atomic_load(sync, GENERATION) == generation:
        if _atomic_load(sync, ABORT) != 0:
            return
        spins += 1
        if spins < SPINS_BEFORE_YIELD:
            _spin_hint()
        else:
            _yield_core()


@jit
def aborted(team):
    """Whether the team was dismissed (:func:`abort`)."""
    return _atomic_load(team[0], ABORT) != 0


@jit(inline="always")
def part(n, grain, team):
    """This member's share ``[start, stop)`` of ``n`` items, in blocks of
    ``grain`` items (all of them for a team of one)."""
    _, rank, ranks = team
    if ranks == 1:
        return 0, n
    blocks = (n + grain - 1) // grain
    start = min(blocks * rank // ranks * grain, n)
    stop = min(blocks * (rank + 1) // ranks * grain, n)
    return start, stop


@jit
def start_epoch(sync, step):
    """Member 0: let the others start the next epoch, numbered from ``step``."""
    _atomic_store(sync, STEP, step)
    _atomic_add(sync, EPOCH, 1)


@jit
def _set_idle(sync, idle):
    _atomic_store(sync, IDLE, idle)


@jit
def abort(sync):
    """Dismiss the team: waiting members return, barriers stop waiting."""
    _atomic_store(sync, ABORT, 1)
    _atomic_add(sync, EPOCH, 1)


@jit
def next_epoch(sync, rank, spins):
    """Wait for member 0 to start an epoch this member has not served.

    Returns the step count to start from, -1 once the team is dismissed,
    -2 if nothing came within ``spins`` spins or member 0 trains alone
    (the caller then waits without spinning).
    """
    served = sync[SERVED + 8 * rank]
    for spin in range(spins):
        if _atomic_load(sync, ABORT) != 0:
            return -1
        if _atomic_load(sync, EPOCH) > served:
            sync[SERVED + 8 * rank] = served + 1
            return _atomic_load(sync, STEP)
        if _atomic_load(sync, IDLE) != 0:
            return -2
        if spin < SPINS_BEFORE_YIELD:
            _spin_hint()
        else:
            _yield_core()  # member 0 may need this core (see barrier)
    return -2


# A member waiting for the next epoch spins this many times (about a
# millisecond), then sleeps until member 0 wakes it.
SPINS = 1 << 15


# A fit with a team times its epochs both ways (as a team and alone, the
# same bits either way) and keeps the faster way, trying the other again
# every this many epochs: another process's threads spinning on the same
# cores (an OpenMP or BLAS pool after its work; in the benchmark report's
# rounds, right after scikit-learn's or PyTorch's fits) made teams of (64,
# 64) float64 0.67x one thread's speed, where alone they were 1.29x.
RETRY_EVERY = 8


class EpochTeam:
    """Members 1 to ``ranks - 1`` of a team that trains a fit's epochs with
    the fit's own thread (member 0), each in a thread of its own.

    Parameters
    ----------
    ranks : int
        The team's size, member 0 included.
    epoch : callable
        ``epoch(step, team)`` runs one epoch (``_network.run_epoch`` with the
        fit's arguments) as the member ``team``, from the update ``step``.

    Member 0 calls :meth:`start_epoch` before each of its own epochs and
    :meth:`dismiss` when the fit ends (used as a context manager, on leaving
    it).
    """

    def __init__(self, ranks, epoch):
        self.ranks = ranks
        self.sync = new_sync()
        self.failure = None
        self._epochs = 0
        self._seconds = {True: None, False: None}  # the last epoch each way
        self._previous = False  # whether the last epoch ran as a team
        self._warming = False  # the last one was a team's first after others
        self._epoch = epoch
        self._wake = [threading.Event() for _ in range(ranks)]
        self._threads = [
            threading.Thread(target=self._serve, args=(rank,), daemon=True,
                             name=f"fastbp-team-{rank}")  # fmt: skip
            for rank in range(1, ranks)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def leader(self):
        """Member 0's team value, for ``run_epoch``."""
        return (self.sync, 0, self.ranks)

    def start_epoch(self, step):
        """Let the other members start the epoch member 0 starts now."""
        start_epoch(self.sync, step)
        for wake in self._wake:
            wake.set()

    def use_team(self):
        """Whether the next epoch should run as a team (else alone): first
        each way once, then the way whose last epoch was faster, the other
        every ``RETRY_EVERY`` epochs. A team's first epoch after epochs
        alone (its members were asleep; measured on the digits, 0.6 ms
        against 0.3 ms) is not timed: the next one runs as a team too."""
        self._epochs += 1
        team, alone = self._seconds[True], self._seconds[False]
        if self._warming or team is None:
            by_team = True
        elif alone is None:
            by_team = False
        else:
            faster = team <= alone
            by_team = not faster if self._epochs % RETRY_EVERY == 0 else faster
        # Alone, the others sleep rather than spin: measured in the
        # report's rounds (right after scikit-learn's fits, whose BLAS
        # threads spin), their spinning took the fit's thread's core.
        _set_idle(self.sync, 0 if by_team else 1)
        return by_team

    def record(self, by_team, seconds):
        """Record the time of an epoch run as a team or alone."""
        self._warming = by_team and not self._previous
        if not self._warming:
            self._seconds[by_team] = seconds
        self._previous = by_team

    def check(self):
        """Raise if a member failed (its epoch's work is then incomplete)."""
        if self.failure is not None:
            raise RuntimeError("a training thread failed") from self.failure

    def dismiss(self):
        """End the members' threads."""
        abort(self.sync)
        for wake in self._wake:
            wake.set()
        for thread in self._threads:
            thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.dismiss()

    def _serve(self, rank):
        team = (self.sync, rank, self.ranks)
        try:
            while True:
                step = next_epoch(self.sync, rank, SPINS)
                if step == -1:
                    return
                if step == -2:
                    self._wake[rank].wait()
                    self._wake[rank].clear()
                    continue
                self._epoch(step, team)
        except BaseException as error:  # member 0 must not wait for it
            self.failure = error
            abort(self.sync)
