"""10,000 epochs: finite weights, a loss still going down, flat memory."""

import numpy as np
import pytest

from benchmarks.endurance import describe, endurance

LOSS_CURVE_BYTES = 10_000 * (24 + 8)  # a float object and a list slot per epoch


def test_ten_thousand_epochs_keep_weights_finite_and_memory_flat():
    """The figures are printed (``pytest -s``; or ``python -m
    benchmarks.endurance``). Memory may grow by loss_curve_ (0.3 MiB), not
    per epoch: Python's allocations peak below 1 MiB beyond it, and the
    resident memory grows by less than 4 MiB."""
    model, figures = endurance(10_000)
    print(describe(figures))
    assert figures["epochs"] == model.n_iter_ == len(model.loss_curve_) == 10_000
    assert all(np.isfinite(a).all() for a in model.coefs_ + model.intercepts_)
    assert np.isfinite(model.loss_curve_).all()
    assert figures["last_loss"] < figures["first_loss"] / 10
    assert figures["python_peak"] < LOSS_CURVE_BYTES + 2**20
    if figures["rss_before"] is None:
        pytest.skip("no /proc/self/status: resident memory not measured")
    assert figures["rss_after"] - figures["rss_before"] < 4 * 2**20
