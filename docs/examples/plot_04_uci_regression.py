"""
Regression on a UCI data set
============================

The concrete compressive strength data set of the UCI regression benchmark
(Hernandez-Lobato & Adams 2015), its first published split, with the
paper's protocol: 50 ReLU units, 40 epochs of Adam, batch 32, inputs and
target standardised. fastbp and scikit-learn's MLPRegressor draw the same
weights and batches, so they reach the same test error. Without the data
directory, scikit-learn's bundled diabetes data stands in.
"""

import os
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from fastbp import BackpropRegressor
from fastbp.datasets import load_uci

home = Path(os.environ.get("FASTBP_DOCS_SHARED", "../shared/datasets")) / "uci"
try:
    X_train, X_test, y_train, y_test = load_uci("concrete", 0, data_home=home)
    name = "concrete, split 0"
except (FileNotFoundError, OSError, ValueError):
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    name = "diabetes (the UCI data is not here)"

scaler = StandardScaler().fit(X_train)
mean, std = y_train.mean(), y_train.std()
settings = dict(hidden_layer_sizes=(50,), max_iter=40, batch_size=32, random_state=0)

fig, ax = plt.subplots()
for cls in (BackpropRegressor, MLPRegressor):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model = cls(**settings).fit(scaler.transform(X_train), (y_train - mean) / std)
        seconds = time.perf_counter() - start
    predicted = model.predict(scaler.transform(X_test)) * std + mean
    rmse = np.sqrt(np.mean((predicted - y_test) ** 2))
    print(f"{name}: {cls.__name__:18s} test RMSE {rmse:.3f}   {seconds:.3f} s per fit")
    ax.scatter(y_test, predicted, s=12, alpha=0.6, label=f"{cls.__name__}, RMSE {rmse:.2f}")
ax.axline((y_test.min(), y_test.min()), slope=1, color="gray", linestyle="--")
ax.set_xlabel("true target")
ax.set_ylabel("predicted")
ax.set_title(name)
ax.legend()
plt.show()
