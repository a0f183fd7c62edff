"""The BLAS thread policy of training."""

import multiprocessing

import pytest
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


def test_overlapping_fits_restore_the_threads():
    """Fits in several threads overlap: when the first to start ends first,
    the other still runs with one thread, and the last to end restores the
    original number (a limit per fit would leave BLAS at one thread)."""
    before = blas_threads()
    first, second = blas_threads_for([8, 64, 1]), blas_threads_for([4, 32, 2])
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert set(blas_threads().values()) == {1}
    second.__exit__(None, None, None)
    assert blas_threads() == before


def _threads_in_child(queue):
    queue.put(blas_threads())


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_a_child_forked_during_a_fit_gets_the_threads_back():
    """A process forked while a fit holds the one-thread limit has no fit
    running: it starts with the original number of threads."""
    before = blas_threads()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    with blas_threads_for([8, 64, 1]):
        child = context.Process(target=_threads_in_child, args=(queue,))
        child.start()
        in_child = queue.get(timeout=60)
        child.join(timeout=60)
    assert child.exitcode == 0
    assert in_child == before
