"""Hyper-parameter search on a Dask cluster, through joblib's "dask" backend.

The cluster is real: a ``dask.distributed.LocalCluster`` of two worker
processes (one thread each), started by this module; the estimator is sent
to the workers, trained there, and scored there.
"""

import os

import dask
import joblib
import numba
import numpy as np
import pytest
from conftest import make_search
from distributed import Client, LocalCluster, get_task_stream
from numpy.testing import assert_array_equal
from threadpoolctl import threadpool_info

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def client():
    # What README says to do on a cluster: one thread per worker, and BLAS and
    # Numba limited to it through the environment each worker starts with
    # (the Nanny sets OMP, MKL and OpenBLAS to one thread by default).
    limits = {"distributed.nanny.pre-spawn-environ.NUMBA_NUM_THREADS": 1}
    # The Nannies write their workers' environment into this process's (and
    # leave it there): Numba, whose threads started with the machine's
    # count, would then refuse to compile anything in later tests.
    environment = dict(os.environ)
    with (
        dask.config.set(limits),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
    os.environ.clear()
    os.environ.update(environment)


def test_search_on_the_cluster_equals_the_serial_search(client, estimator):
    X, y = estimator.make_data(
        150, 4, lambda X: np.sin(X[:, 0]) + X[:, 1] * X[:, 2], inputs="normal"
    )
    serial = make_search(estimator).fit(X, y)
    with get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        distributed = make_search(estimator, n_jobs=-1).fit(X, y)

    # The fits ran on both workers of the cluster.
    assert len({task["worker"] for task in tasks.data}) == 2
    assert distributed.best_params_ == serial.best_params_
    for key in ("params", "rank_test_score"):
        assert list(distributed.cv_results_[key]) == list(serial.cv_results_[key])
    for key in ("mean_test_score", *(f"split{i}_test_score" for i in range(3))):
        assert_array_equal(distributed.cv_results_[key], serial.cv_results_[key])
    assert_array_equal(distributed.predict(X), serial.predict(X))


def thread_limits():
    """A worker's BLAS threads (numpy's and SciPy's BLAS) and Numba threads."""
    import scipy.linalg.cython_blas  # noqa: F401  (the BLAS fastbp's kernels call)

    blas = {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}
    return {"blas": blas, "numba": numba.config.NUMBA_NUM_THREADS}


def test_each_worker_runs_one_blas_and_one_numba_thread(client):
    limits = client.run(thread_limits)
    assert len(limits) == 2
    assert all(limit == {"blas": {1}, "numba": 1} for limit in limits.values())
