"""
A grid search on a Dask cluster
===============================

``GridSearchCV`` runs on a Dask cluster through joblib: each fit is a task
on a worker. Here a ``LocalCluster`` of two single-threaded workers stands
for a real cluster (``Client("tcp://scheduler:8786")``); the search finds
the same best parameters as when it runs serially.
"""

import warnings

import joblib
import matplotlib.pyplot as plt
import numpy as np
from dask.distributed import Client, LocalCluster
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from fastbp import BackpropRegressor

rng = np.random.RandomState(0)
X = rng.uniform(-1, 1, size=(600, 4))
y = np.sin(3 * X[:, 0]) + X[:, 1] * X[:, 2]
grid = {"alpha": [1e-4, 1e-2], "hidden_layer_sizes": [(16,), (32, 32)]}
search = GridSearchCV(BackpropRegressor(max_iter=60, random_state=0), grid, cv=3)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    serial = GridSearchCV(BackpropRegressor(max_iter=60, random_state=0), grid,
                          cv=3).fit(X, y)  # fmt: skip
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster):  # fmt: skip
        with joblib.parallel_backend("dask"):
            search.fit(X, y)

print("on the cluster:", search.best_params_, f"R^2 {search.best_score_:.4f}")
print("serially:      ", serial.best_params_, f"R^2 {serial.best_score_:.4f}")

fig, ax = plt.subplots()
names = [f"alpha={p['alpha']:g}, {p['hidden_layer_sizes']}" for p in search.cv_results_["params"]]
ax.barh(names, search.cv_results_["mean_test_score"], label="on the cluster")
ax.plot(serial.cv_results_["mean_test_score"], names, "k|", markersize=20, label="serially")
ax.set_xlabel("mean cross-validated R^2")
ax.legend()
fig.tight_layout()
plt.show()
