"""The benchmark instrument itself: cost model, grid, report writing.

The benchmarks are not run here (they take minutes); these tests keep their
code working, on a tiny grid with the always-installed implementations.
"""

import json
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from benchmarks import profile, report, workload
from benchmarks.implementations import make_trainer
from fastbp import BackpropRegressor


@pytest.mark.parametrize("width, depth", [(16, 1), (64, 4), (1024, 2)])
def test_flops_count_every_weight_six_times_per_sample(width, depth):
    """6 FLOPs (2 forward, 4 backward) per weight per sample."""
    X, y = workload.make_data("float64", n_samples=30)
    model = BackpropRegressor((width,) * depth, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    n_weights = sum(W.size for W in model.coefs_)
    assert workload.flops_per_epoch(width, depth, 30) == 6 * n_weights * 30


def test_grid_covers_every_size_and_stops_1024_at_two_layers():
    sizes = workload.grid()
    assert {d for w, d in sizes if w == 1024} == {1, 2}
    assert {(w, d) for w in (16, 64, 256) for d in (1, 2, 4, 8)} <= set(sizes)
    assert set(workload.grid(quick=True)) <= set(sizes)


@pytest.mark.parametrize("name", ["fastbp", "scikit-learn"])
def test_trainer_runs_the_requested_epochs(name):
    X, y = workload.make_data("float32", n_samples=450)
    trainer = make_trainer(name, X, y, (8,))
    trainer.compile()
    trainer.train(3)
    assert trainer.model.n_iter_ == 3
    assert trainer.model.coefs_[0].dtype == np.float32


def test_report_files_from_a_tiny_grid(tmp_path):
    names = ["fastbp", "scikit-learn"]
    peaks = {"float64": 10.0}
    sizes = [("float64", 4, 1), ("float64", 4, 2)]
    rows = report.measure_grid(sizes, rounds=2, names=names, peaks=peaks, n_samples=400)
    for row in rows:
        for name in names:
            measured = row["implementations"][name]
            assert len(measured["rounds"]) == 2
            assert measured["seconds_per_epoch"] == np.median(measured["rounds"])
            assert measured["gflops"] == pytest.approx(
                row["flops_per_epoch"] / measured["seconds_per_epoch"] / 1e9
            )
    costs = report.depth_costs(rows, names)
    assert {c["implementation"] for c in costs} == set(names)
    inference = {
        name: {
            "predict_100k_seconds": 1.0,
            "predict_one_row_seconds": 1e-4,
            "rows_per_second": 1e5,
        }
        for name in names
    }
    content = {
        "machine": {"cpu": "cpu", "cores": 2, "python": "3", "versions": {}},
        "rounds": 2,
        "implementations": names,
        "skipped": {"pytorch": "absent", "jax": "absent"},
        "gemm_peak": peaks,
        "grid": rows,
        "depth_costs": costs,
        "inference": inference,
        "cold_start": {
            "fastbp_empty_cache": 9.0,
            "fastbp_warm_cache": 1.0,
            "scikit-learn": 1.0,
        },
    }
    report.write_json(tmp_path / "report.json", content)
    report.write_markdown(tmp_path / "report.md", content)
    assert json.loads((tmp_path / "report.json").read_text())["grid"] == rows
    markdown = (tmp_path / "report.md").read_text()
    assert "speed-up vs scikit-learn" in markdown
    assert "Not measured: pytorch (absent)" in markdown
    table = [line for line in markdown.splitlines() if line.startswith("| 4 |")]
    assert len(table) == 2


def test_profile_times_every_step_of_backprop(monkeypatch):
    """One row per step that run_epoch takes: gather, each layer's forward
    and gradient, the backward passes of all but the first layer, the loss
    and the update; each a positive time, BLAS's share within it."""
    monkeypatch.setattr(profile, "TARGET_SECONDS", 0.002)
    rows, measured = profile.profile((5, 3), "float32")
    names = [row[0] for row in rows]
    assert names == [
        "gather rows",
        "layer 1 (8x5) forward",
        "layer 2 (5x3) forward",
        "layer 3 (3x1) forward",
        "loss and output error",
        "layer 3 (3x1) gradient",
        "layer 3 (3x1) backward",
        "layer 2 (5x3) gradient",
        "layer 2 (5x3) backward",
        "layer 1 (8x5) gradient",
        "optimizer (adam)",
    ]
    assert all(micro > 0 for _, micro, _ in rows) and measured > 0
    assert all(blas > 0 for name, _, blas in rows if "layer" in name)
    table = profile.format_profile((5, 3), "float32", rows, measured)
    assert table.count("\n| layer") == 8


def test_threads_benchmark_times_both_ways_on_a_tiny_run():
    from benchmarks import threads

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        row = threads.measure((4,), "float32", epochs=2, repeats=2, n_samples=300)
    assert row["serial_seconds"] > 0 and row["threads_seconds"] > 0
    assert row["speedup"] == row["serial_seconds"] / row["threads_seconds"]
    assert row["threads_cores"] > 0
