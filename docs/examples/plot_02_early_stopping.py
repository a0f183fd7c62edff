"""
Overfitting and early stopping
==============================

A wide network on few noisy samples learns the noise: its training loss
keeps falling while the loss on held-out data turns up. With
``early_stopping=True`` fastbp holds out ``validation_fraction`` of the
data, stops when the validation score stops improving, and keeps the weights
of the best epoch. :class:`fastbp.LossCurveDisplay` draws the curves.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from fastbp import BackpropRegressor, LossCurveDisplay

rng = np.random.RandomState(0)
X = rng.uniform(-1, 1, size=(160, 3))
y = np.sin(3 * X[:, 0]) + 0.5 * rng.normal(size=160)  # noisy targets

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    patient = BackpropRegressor(
        (256, 256), learning_rate_init=0.01, max_iter=300, early_stopping=True,
        validation_fraction=0.3, n_iter_no_change=300, random_state=0,
    ).fit(X, y)
    stopped = BackpropRegressor(
        (256, 256), learning_rate_init=0.01, max_iter=300, early_stopping=True,
        validation_fraction=0.3, n_iter_no_change=10, random_state=0,
    ).fit(X, y)

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
LossCurveDisplay.from_estimator(patient, ax=axes[0], name="300 epochs")
LossCurveDisplay.from_estimator(stopped, ax=axes[1], name="early stopping")
fig.tight_layout()
plt.show()

print(f"trained {patient.n_iter_} epochs; stopped after {stopped.n_iter_}, "
      f"keeping the weights of epoch {np.argmax(stopped.validation_scores_) + 1}")
