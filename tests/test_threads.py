"""The BLAS thread policy of training."""

from threadpoolctl import threadpool_info

from fastbp._threads import SINGLE_THREAD_MAX_WEIGHTS, blas_threads_for


def blas_threads():
    return {
        p["filepath"]: p["num_threads"]
        for p in threadpool_info()
        if p["user_api"] == "blas"
    }


def test_small_networks_use_one_blas_thread_and_restore():
    before = blas_threads()
    with blas_threads_for([8, 64, 64, 1]):
        inside = blas_threads()
    assert inside and set(inside.values()) == {1}
    assert blas_threads() == before


def test_large_networks_keep_the_threads():
    before = blas_threads()
    width = int(SINGLE_THREAD_MAX_WEIGHTS**0.5)
    with blas_threads_for([8, width, width, 1]):
        assert blas_threads() == before
