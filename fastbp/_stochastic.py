"""The stochastic solvers' epoch loop: one compiled call per epoch.

Python keeps what happens between epochs (shuffling from the estimator's
random stream, schedules, stopping, verbose output, callbacks, checkpoints);
``_network.run_epoch`` trains on all mini-batches of an epoch at once.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._checkpoint import Checkpoint
from ._early_stopping import end_of_epoch, record_validation, split_validation
from ._network import batch_workspaces, run_epoch
from ._optimizers import LEARNING_RATE, SOLVER_CODES, optimizer_hyperparameters
from ._shuffle import AHEAD_MIN_ROWS, EpochOrders
from ._sparse import kernel_input
from ._team import EpochTeam, solo
from ._threads import available_threads, team_size, training_threads

__all__ = ["train_stochastic"]

# Said in every divergence error, so that code matching scikit-learn's
# message keeps working.
SKLEARN_DIVERGENCE = (
    "Solver produced non-finite parameter weights. The input data may contain "
    "large values and need to be preprocessed."
)


def train_stochastic(model, X, Y, sample_weight, weighted, random_state,
                     incremental, context):  # fmt: skip
    """Train ``model`` with 'sgd' or 'adam' for up to ``max_iter`` epochs.

    ``incremental`` (partial_fit) stops after one epoch. Updates the model's
    parameters, optimizer state and history in place.
    """
    validation = None
    if model.early_stopping:
        X, Y, sample_weight, validation = split_validation(
            model, X, Y, sample_weight, weighted, random_state
        )
    report = model._callback_report(X, Y, sample_weight if weighted else None)
    n_samples = X.shape[0]
    batch_size = model._batch_size(n_samples)
    dtype = model._params.dtype
    workspaces = batch_workspaces(model._units, batch_size, dtype)
    grad = np.empty_like(model._params)
    hyper = optimizer_hyperparameters(
        model._learning_rate, model.momentum, model.nesterovs_momentum,
        model.beta_1, model.beta_2, model.epsilon,
    )  # fmt: skip
    optimizer = (SOLVER_CODES[model.solver], model._optimizer_state, hyper)
    checkpoint = Checkpoint(
        model._params, model._optimizer_state, getattr(model, "_best_params", None)
    )
    data, network = (kernel_input(X), Y, sample_weight), model._network
    alpha = float(model.alpha)

    def epoch(step, team, threads=1):
        """``run_epoch`` from update ``step`` as the member ``team``."""
        return run_epoch(
            data, orders.current, batch_size, model._params, grad, network,
            alpha, model._loss_spec, workspaces, optimizer, step, threads, team,
        )  # fmt: skip

    # Sparse input trains alone: its first layer's gradient is scattered
    # into rows of dW, and members writing blocks of the same rows were
    # measured 2x slower than one thread (Adult census data, 64 units).
    itemsize = model._params.itemsize
    sparse = isinstance(data[0], tuple)
    ranks = 1 if sparse else team_size(batch_size, model._units, itemsize)
    crew = EpochTeam(ranks, epoch) if ranks > 1 else None
    alone = solo()
    # The other core draws the next epoch's order while this one trains,
    # unless a team keeps it busy (see _shuffle).
    ahead = (crew is None and not incremental and n_samples >= AHEAD_MIN_ROWS
             and available_threads() > 1)  # fmt: skip
    orders = EpochOrders(n_samples, random_state, model.shuffle, ahead)
    model.n_iter_ = 0
    in_epoch = False
    try:
        for iteration in range(model.max_iter):
            # The swaps of a shuffle do not depend on the values, so
            # shuffling the order in place gives scikit-learn's
            # ``shuffle(order, random_state)`` from the same stream.
            orders.next_epoch(more=iteration + 1 < model.max_iter)
            hyper[LEARNING_RATE] = model._learning_rate
            task = context.subcontext(task_name="epoch")
            task.call_on_fit_task_begin(estimator=model)
            recorded = _history(model)
            in_epoch = True
            total, step = _run_epoch(epoch, crew, alone, model._optimizer_step,
                                     batch_size, model._units, itemsize)  # fmt: skip
            loss = total / n_samples
            if not (np.isfinite(loss) and np.isfinite(model._params).all()):
                in_epoch = False
                _diverged(model, loss, validation, checkpoint, n_samples)
                break
            model._optimizer_step = step
            _count_epoch(model, loss, n_samples)
            # From here the live state is this epoch's, and recorded: a
            # Ctrl-C keeps it even before the checkpoint has it.
            in_epoch = False
            checkpoint.save()
            stop = end_of_epoch(model, loss, validation, checkpoint)
            stop |= task.call_on_fit_task_end(
                estimator=model,
                reconstruction_attributes=model._fitted_state,
                **report,
            )
            if stop or incremental:
                break
            if model.n_iter_ == model.max_iter:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations "
                    f"({model.max_iter}) reached and the optimization "
                    "hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=5,
                )
    except KeyboardInterrupt:
        model._interrupted = True
        if crew is not None:
            crew.dismiss()  # its members change nothing after this
        if in_epoch:  # the epoch is dropped, however far it was recorded
            checkpoint.restore()
            _restore_history(model, recorded)
        warnings.warn(
            f"Training interrupted by user after {model.n_iter_} epochs; "
            "the weights of the last finished epoch were kept.",
            stacklevel=5,
        )
    finally:
        orders.close()
        if crew is not None:
            crew.dismiss()
    if validation is not None:
        checkpoint.restore_best()


def _run_epoch(epoch, crew, alone, step, n_rows, units, itemsize):
    """One epoch (``epoch(step, team, threads)``), by the fit's team
    ``crew`` when the fit may use one now (another fit of the process may
    have started since) and it was the faster way lately (see
    ``_team.RETRY_EVERY``), else by this thread alone."""
    threads = training_threads(n_rows, units)
    if crew is None or team_size(n_rows, units, itemsize) == 1:
        return epoch(step, alone, threads)
    by_team = crew.use_team()
    start = time.perf_counter()
    if by_team:
        crew.start_epoch(step)
        result = epoch(step, crew.leader)
        crew.check()
    else:
        result = epoch(step, alone, threads)
    crew.record(by_team, time.perf_counter() - start)
    return result


def _history(model):
    """What :func:`_count_epoch` changes, as it is before an epoch."""
    return (model.n_iter_, model.t_, getattr(model, "loss_", None),
            len(model.loss_curve_), model._optimizer_step)  # fmt: skip


def _restore_history(model, recorded):
    """Undo an epoch's record (a Ctrl-C may fall in its middle)."""
    model.n_iter_, model.t_, loss, length, model._optimizer_step = recorded
    del model.loss_curve_[length:]
    if loss is None:
        model.__dict__.pop("loss_", None)
    else:
        model.loss_ = loss


def _count_epoch(model, loss, n_samples):
    """Record a finished epoch in the model's history."""
    model.n_iter_ += 1
    model.t_ += n_samples
    model.loss_ = loss
    model.loss_curve_.append(loss)
    if model.verbose:
        print(f"Iteration {model.n_iter_}, loss = {loss:.8f}")


def _diverged(model, loss, validation, checkpoint, n_samples):
    """An epoch ended with a non-finite loss or weights.

    The last finished epoch's state is restored. With a validation split (as
    scikit-learn, its issue #29504) the epoch is recorded with a NaN
    validation score, training stops and keeps the best epoch's weights, with
    a warning; without one there is nothing better to keep, and a ValueError
    says so.
    """
    checkpoint.restore()
    what = (
        f"the weights overflowed (loss {loss})"
        if np.isfinite(loss)
        else f"the loss became {loss}"
    )
    epoch = model.n_iter_ + 1
    if validation is None:
        raise ValueError(
            f"Training diverged: {what} at epoch {epoch}; the weights of the "
            f"last finite epoch ({model.n_iter_}) were kept. Scale the data "
            "(e.g. with StandardScaler) or lower learning_rate_init. "
            f"{SKLEARN_DIVERGENCE}"
        )
    _count_epoch(model, float(loss), n_samples)
    record_validation(model, np.nan, np.nan)
    warnings.warn(
        f"Training diverged: {what} at epoch {epoch}; training stopped and "
        "kept the weights of the epoch with the best validation score "
        f"({model.best_validation_score_:.6g}). Scale the data (e.g. with "
        "StandardScaler) or lower learning_rate_init.",
        ConvergenceWarning,
        stacklevel=6,
    )
