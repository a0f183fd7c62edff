"""The lecture's worked example of backpropagation."""

import numpy as np
from sklearn.utils import Bunch


def load_worked_example():
    """One sample, one logistic neuron: the classic hand calculation.

    Inputs (0.1, 0.3), desired output 0.03, weights (0.5, 0.2), bias 1.83 and
    learning rate 0.01: s = 1.94, f(s) = 0.874352143, E = 0.356465271.

    Returns
    -------
    example : sklearn.utils.Bunch
        ``data`` (1, 2) and ``target`` (1,); ``coefs`` and ``intercepts``, the
        weights to assign to a ``BackpropRegressor((),
        out_activation="logistic")``; ``learning_rate``; ``DESCR``.

    Examples
    --------
    >>> from fastbp import BackpropRegressor, explain_step
    >>> from fastbp.datasets import load_worked_example
    >>> example = load_worked_example()
    >>> neuron = BackpropRegressor((), out_activation="logistic", alpha=0.0,
    ...                            learning_rate_init=example.learning_rate)
    >>> neuron.coefs_, neuron.intercepts_ = example.coefs, example.intercepts
    >>> round(explain_step(neuron, example.data, example.target).error, 9)
    0.356465271
    """
    return Bunch(
        data=np.array([[0.1, 0.3]]),
        target=np.array([0.03]),
        coefs=[np.array([[0.5], [0.2]])],
        intercepts=[np.array([1.83])],
        learning_rate=0.01,
        DESCR=load_worked_example.__doc__.split("\n\n")[1].strip(),
    )
