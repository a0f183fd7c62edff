"""
How backprop's cost grows with depth and width
==============================================

An epoch's cost is about ``6 x n_samples x sum(fan_in x fan_out)``
floating-point operations (forward 2, backward 4 per weight and sample):
it grows with the number of layers and with the square of their width.
Below, seconds per epoch of fastbp and scikit-learn's MLPRegressor on the
same data, one small grid (the project's benchmark report has the full one).
"""

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from fastbp import BackpropRegressor

rng = np.random.RandomState(0)
X = rng.normal(size=(4096, 8))
y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
EPOCHS = 3
NAMES = {BackpropRegressor: "fastbp", MLPRegressor: "scikit-learn"}


def seconds_per_epoch(cls, hidden):
    model = cls(hidden_layer_sizes=hidden, max_iter=EPOCHS, tol=0,
                n_iter_no_change=EPOCHS + 1,
                random_state=0)  # fmt: skip
    start = time.perf_counter()
    model.fit(X, y)
    return (time.perf_counter() - start) / EPOCHS


fig, ax = plt.subplots()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    BackpropRegressor((16,), max_iter=1).fit(X[:200], y[:200])  # compile first
    for width, marker in [(16, "o"), (64, "s")]:
        depths = [1, 2, 4]
        for cls, style in [(BackpropRegressor, "-"), (MLPRegressor, ":")]:
            times = [min(seconds_per_epoch(cls, (width,) * depth) for _ in range(3))
                     for depth in depths]  # fmt: skip
            ax.plot(depths, times, style, marker=marker,
                    label=f"{NAMES[cls]}, width {width}")
ax.set_xlabel("hidden layers")
ax.set_ylabel("seconds per epoch (4096 samples, batch 200)")
ax.set_yscale("log")
ax.legend()
plt.show()
