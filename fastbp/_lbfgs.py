"""Full-batch training by L-BFGS-B (``scipy.optimize.minimize``).

SciPy's L-BFGS-B works on a float64 vector; the objective copies it into the
network's flat parameter buffer, so a float32 network is evaluated in
float32. The objective returns the gradient of the very loss it returns
(``_network.FullBatch`` with ``output_scale = _loss.gradient_scale``), also
for several outputs, so that the line search sees a consistent pair.
"""

import warnings

import numpy as np
import scipy.optimize


def minimize_lbfgs(params, objective, max_iter, max_fun, tol, on_iteration):
    """Minimise ``objective`` from ``params``; ``params`` ends at the result.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
        Flat parameter buffer, float32 or float64; updated in place.
    objective : callable
        ``objective(params, grad) -> (loss, grad)``, writing into ``grad``.
    max_iter, max_fun : int
        Maximum numbers of iterations and of loss evaluations.
    tol : float
        Stops when the projected gradient's largest entry is below ``tol``.
    on_iteration : callable
        Called after every iteration with the iterate (float64) and its loss.

    Returns
    -------
    result : scipy.optimize.OptimizeResult
    """
    grad = np.empty_like(params)

    def loss_and_grad(x):
        params[:] = x
        loss, _ = objective(params, grad)
        return float(loss), grad.astype(np.float64)

    def callback(intermediate_result):
        on_iteration(intermediate_result.x, intermediate_result.fun)

    result = scipy.optimize.minimize(
        loss_and_grad,
        params.astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
        callback=callback,
    )
    params[:] = result.x
    return result


def train_lbfgs(model, X, Y, sample_weight, context):
    """Train ``model`` by full-batch L-BFGS-B; every iteration's loss in
    ``loss_curve_``.

    The iterate of each finished iteration is saved in a
    :class:`~fastbp._checkpoint.Checkpoint`: Ctrl-C and divergence restore
    it, as in the epoch loop.
    """
    # scikit-learn's helper is imported only by fits that use it, which keeps
    # fastbp's import (its cold start) short.
    from sklearn.utils.optimize import _check_optimize_result

    from ._checkpoint import Checkpoint
    from ._loss import gradient_scale
    from ._network import FullBatch
    from ._stochastic import SKLEARN_DIVERGENCE
    from ._threads import training_threads

    loss_code = model._loss_spec[0]
    threads = training_threads(X.shape[0], model._units)
    objective = FullBatch(
        X, Y, sample_weight, model._network, model.alpha,
        gradient_scale(loss_code, Y.shape[1]), model._loss_spec, threads,
    )  # fmt: skip
    checkpoint = Checkpoint(model._params)
    model.n_iter_ = 0
    report = model._callback_report(X, Y, sample_weight)

    def on_iteration(x, loss):
        model.loss_curve_.append(float(loss))
        model.n_iter_ += 1
        checkpoint.save_iterate(x, model.n_iter_)
        if model.verbose:
            print(f"Iteration {model.n_iter_}, loss = {loss:.8f}")
        iteration = context.subcontext(task_name="iteration")
        iteration.call_on_fit_task_begin(estimator=model)
        model._params[:] = x  # what the callbacks see
        if iteration.call_on_fit_task_end(
            estimator=model, reconstruction_attributes=model._fitted_state, **report
        ):
            raise StopIteration  # ends scipy's minimisation

    try:
        result = minimize_lbfgs(
            model._params, objective, model.max_iter, model.max_fun, model.tol,
            on_iteration,
        )  # fmt: skip
    except KeyboardInterrupt:
        model._interrupted = True
        # The history goes back to the saved iterate's, wherever the
        # interruption fell in on_iteration.
        model.n_iter_ = checkpoint.restore_iterate()
        del model.loss_curve_[model.n_iter_ :]
        warnings.warn(
            f"Training interrupted by user after {model.n_iter_} iterations; "
            "the weights of the last finished iteration were kept.",
            stacklevel=5,
        )
        model.loss_ = objective(model._params)[0]
        model.best_loss_ = min(model.loss_curve_, default=model.loss_)
        return
    model.n_iter_ = _check_optimize_result("lbfgs", result, model.max_iter)
    model.loss_ = float(result.fun)
    model.best_loss_ = min(model.loss_curve_, default=model.loss_)
    if not (np.isfinite(model.loss_) and np.isfinite(model._params).all()):
        checkpoint.restore_iterate()
        raise ValueError(
            "Training diverged: L-BFGS reached a non-finite loss or weights; "
            "the last finite iterate was kept. Scale the data (e.g. with "
            f"StandardScaler) or increase alpha. {SKLEARN_DIVERGENCE}"
        )
