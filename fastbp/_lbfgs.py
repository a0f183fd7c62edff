"""Full-batch training by L-BFGS-B (``scipy.optimize.minimize``).

SciPy's L-BFGS-B works on a float64 vector; the objective copies it into the
network's flat parameter buffer, so a float32 network is evaluated in
float32. The objective returns the gradient of the very loss it returns
(``_network.FullBatch`` with ``output_scale = 1 / n_outputs``), also for
several outputs, so that the line search sees a consistent pair.
"""

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
