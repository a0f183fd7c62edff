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
from benchmarks.implementations import make_trainer, missing_reason
from fastbp import BackpropClassifier, BackpropRegressor


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


def test_classifier_flops_count_the_output_layer_of_every_class():
    X, y = workload.make_classification_data("float64", n_samples=30)
    model = BackpropClassifier((16, 16), max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert model.n_outputs_ == workload.N_CLASSES
    n_weights = sum(W.size for W in model.coefs_)
    flops = workload.flops_per_epoch(16, 2, 30, n_outputs=workload.N_CLASSES)
    assert flops == 6 * n_weights * 30


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_classification_data_are_the_regression_inputs_in_balanced_classes(dtype):
    X, labels = workload.make_classification_data(dtype, n_samples=1000)
    X_regression, _ = workload.make_data(dtype, n_samples=1000)
    np.testing.assert_array_equal(X, X_regression)
    assert X.dtype == dtype and labels.dtype == np.int64
    assert np.array_equal(np.bincount(labels), [100] * workload.N_CLASSES)
    other = workload.make_classification_data("float32", n_samples=1000)[1]
    np.testing.assert_array_equal(labels, other)  # the same labels in any dtype
    Y = workload.one_hot(labels, dtype=dtype)
    assert Y.shape == (1000, workload.N_CLASSES) and Y.dtype == dtype
    np.testing.assert_array_equal(Y.argmax(axis=1), labels)
    assert (Y.sum(axis=1) == 1).all()


def test_grid_covers_every_size_and_stops_1024_at_two_layers():
    sizes = workload.grid()
    assert {d for w, d in sizes if w == 1024} == {1, 2}
    assert {(w, d) for w in (16, 64, 256) for d in (1, 2, 4, 8)} <= set(sizes)
    assert set(workload.grid(quick=True)) <= set(sizes)


def test_classification_grid_is_two_widths_by_two_depths():
    sizes = workload.classification_grid()
    assert sorted(sizes) == [(64, 1), (64, 4), (256, 1), (256, 4)]
    assert set(workload.classification_grid(quick=True)) < set(sizes)
    assert set(workload.SOFTMAX_OVERHEAD_SIZES) <= set(sizes)
    assert {w for w, _ in workload.SOFTMAX_OVERHEAD_SIZES} == {64}


@pytest.mark.parametrize("name", ["fastbp", "scikit-learn"])
def test_trainer_runs_the_requested_epochs(name):
    X, y = workload.make_data("float32", n_samples=450)
    trainer = make_trainer(name, X, y, (8,))
    trainer.compile()
    trainer.train(3)
    assert trainer.model.n_iter_ == 3
    assert trainer.model.coefs_[0].dtype == np.float32


@pytest.mark.parametrize("name", ["fastbp", "scikit-learn"])
def test_classification_trainer_has_a_softmax_over_every_class(name):
    X, y = workload.make_classification_data("float32", n_samples=450)
    trainer = make_trainer(name, X, y, (8,), task="classification")
    trainer.compile()
    trainer.train(3)
    model = trainer.model
    assert model.n_iter_ == 3 and model.out_activation_ == "softmax"
    assert model.coefs_[-1].shape == (8, workload.N_CLASSES)
    assert model.coefs_[0].dtype == np.float32


def test_make_trainer_refuses_an_unknown_task():
    X, y = workload.make_data("float64", n_samples=30)
    with pytest.raises(ValueError, match="task must be one of"):
        make_trainer("fastbp", X, y, (4,), task="ranking")


@pytest.mark.parametrize("task", ["regression", "classification"])
@pytest.mark.parametrize("name", ["pytorch", "jax"])
def test_peer_trainer_runs_where_installed(name, task):
    """The optional peers' loops (skipped where they are not installed)."""
    reason = missing_reason(name)
    if reason:
        pytest.skip(reason)
    make = (
        workload.make_classification_data
        if task == "classification"
        else workload.make_data
    )
    X, y = make("float32", n_samples=450)
    trainer = make_trainer(name, X, y, (8,), task=task)
    trainer.compile()
    trainer.train(2)


class _FakeTrainer:
    """Records the epochs it is asked to train; each takes ``seconds``."""

    def __init__(self, seconds, log, name):
        self.seconds, self.log, self.name = seconds, log, name
        self.compiled = False

    def compile(self):
        self.compiled = True

    def train(self, epochs):
        self.log.append((self.name, epochs))
        end = report.time.perf_counter() + self.seconds * epochs
        while report.time.perf_counter() < end:
            pass


@pytest.mark.parametrize("same_epochs", [False, True])
def test_one_timing_loop_rotates_the_order_and_can_equalise_epochs(
    monkeypatch, same_epochs
):
    monkeypatch.setattr(report, "MIN_MEASURE_SECONDS", 0.004)
    log = []
    trainers = {
        "fast": _FakeTrainer(0.0005, log, "fast"),
        "slow": _FakeTrainer(0.002, log, "slow"),
    }
    seconds, epochs = report.time_trainers(trainers, rounds=3, same_epochs=same_epochs)
    assert all(t.compiled for t in trainers.values())
    assert log[:2] == [("fast", 1), ("slow", 1)]  # calibration
    order = ["fast", "slow", "slow", "fast", "fast", "slow"]  # rotated per round
    assert log[2:] == [(name, epochs[name]) for name in order]
    if same_epochs:
        assert epochs["fast"] == epochs["slow"] > 1
    else:
        assert epochs["fast"] > epochs["slow"] >= 1
    assert all(len(rounds) == 3 for rounds in seconds.values())
    assert np.median(seconds["slow"]) > np.median(seconds["fast"])


def saved_targets(directory):
    return json.loads((directory / "report.json").read_text())["targets"]


def test_report_files_from_a_tiny_grid(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "MIN_MEASURE_SECONDS", 0.005)
    names = ["fastbp", "fastbp 1 thread", "scikit-learn"]
    peaks = {"float64": 10.0}
    sizes = [("float64", 4, 1), ("float64", 4, 2)]
    rows = report.measure_grid(sizes, rounds=2, names=names, peaks=peaks, n_samples=400)
    classification = report.measure_grid(
        [("float64", 6, 1)], rounds=2, names=names, peaks=peaks, n_samples=400,
        task="classification",
    )  # fmt: skip
    overhead = report.measure_softmax_overhead([("float64", 5, 1)], 3, n_samples=400)
    for row in rows:
        for name in names:
            measured = row["implementations"][name]
            assert len(measured["rounds"]) == 2
            assert measured["seconds_per_epoch"] == np.median(measured["rounds"])
            assert measured["gflops"] == pytest.approx(
                row["flops_per_epoch"] / measured["seconds_per_epoch"] / 1e9
            )
    (row,) = classification
    assert row["task"] == "classification" and row["n_outputs"] == workload.N_CLASSES
    assert row["flops_per_epoch"] == workload.flops_per_epoch(
        6, 1, 400, n_outputs=workload.N_CLASSES
    )
    assert set(row["implementations"]) == set(names)
    (ratio,) = overhead
    assert len(ratio["classifier_rounds"]) == len(ratio["regressor_rounds"]) == 3
    assert ratio["classifier_seconds_per_epoch"] == np.median(
        ratio["classifier_rounds"]
    )
    assert ratio["ratio"] == (
        ratio["classifier_seconds_per_epoch"] / ratio["regressor_seconds_per_epoch"]
    )
    assert (ratio["width"], ratio["depth"], ratio["n_classes"]) == (5, 1, 10)
    assert ratio["softmax_seconds_per_epoch"] > 0  # exp and log cost time
    assert ratio["within"] == (
        ratio["classifier_seconds_per_epoch"]
        <= ratio["regressor_seconds_per_epoch"] + ratio["softmax_seconds_per_epoch"]
    )
    assert ratio["within_ratio"] == (ratio["ratio"] <= report.SOFTMAX_OVERHEAD_RATIO)
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
        "gemm_peaks": {"float64": {"peak": 10.0, "numpy": 9.0, "fastbp": 10.0}},
        "grid": rows,
        "depth_costs": costs,
        "targets": report.targets(rows, names),
        "classification": classification,
        "softmax_overhead": overhead,
        "softmax_overhead_target": report.SOFTMAX_OVERHEAD_TARGET,
        "inference": inference,
        "cold_start": {
            "fastbp_empty_cache": 9.0,
            "fastbp_warm_cache": 1.0,
            "scikit-learn": 1.0,
        },
    }
    report.write_json(tmp_path / "report.json", content)
    report.write_markdown(tmp_path / "report.md", content)
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["grid"] == rows
    assert saved["classification"] == classification
    assert saved["softmax_overhead"] == overhead
    markdown = (tmp_path / "report.md").read_text()
    assert "speed-up vs scikit-learn" in markdown
    assert "speed-up vs fastbp 1 thread" not in markdown  # not a peer
    assert "| 2 threads vs 1 |" in markdown
    # The summary: scikit-learn is the only peer here.
    ratios = [
        r["implementations"]["scikit-learn"]["seconds_per_epoch"]
        / r["implementations"]["fastbp"]["seconds_per_epoch"]
        for r in rows
    ]
    geometric_mean = float(np.exp(np.mean(np.log(ratios))))
    assert saved_targets(tmp_path)["geometric_mean_best_peer_over_fastbp"] == (
        pytest.approx(geometric_mean)
    )
    assert f"fastbp's: {geometric_mean:.2f}" in markdown
    assert "Not measured: pytorch (absent)" in markdown
    table = [line for line in markdown.splitlines() if line.startswith("| 4 |")]
    assert len(table) == 2
    sections = markdown.split("\n## ")
    (section,) = [s for s in sections if s.startswith("Classification, 10 classes")]
    assert "float64" in section.splitlines()[0]
    assert "| fastbp s/epoch | fastbp 1 thread s/epoch | scikit-learn s/epoch |" in section
    assert len([line for line in section.splitlines() if line.startswith("| 6 |")]) == 1
    (section,) = [s for s in sections if s.startswith("What the softmax")]
    cells = [line for line in section.splitlines() if line.startswith("| float64 |")]
    assert len(cells) == 1
    assert "| 5 | 1 | " in cells[0] and f"| {ratio['ratio']:.3f} |" in cells[0]
    assert "no longer than the regressor's plus the softmax's own steps" in section
    assert "ratio at most 1.10" in section
    verdicts = [c.strip() for c in cells[0].split("|")[1:-1]]
    assert verdicts[6] == ("yes" if ratio["within_ratio"] else "**no**")
    assert verdicts[9] == ("yes" if ratio["within"] else "**no**")


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


@pytest.mark.parametrize("classes, outputs", [(3, 1), (None, 3)])
def test_profile_takes_the_classifier_or_several_outputs(monkeypatch, classes, outputs):
    """The classifier's softmax and log loss, or the regressor's identity
    outputs on the same labels' one-hot targets: the same steps and shapes."""
    monkeypatch.setattr(profile, "TARGET_SECONDS", 0.002)
    rows, measured = profile.profile((5,), "float64", classes, outputs)
    assert [row[0] for row in rows] == [
        "gather rows",
        "layer 1 (8x5) forward",
        "layer 2 (5x3) forward",
        "loss and output error",
        "layer 2 (5x3) gradient",
        "layer 2 (5x3) backward",
        "layer 1 (8x5) gradient",
        "optimizer (adam)",
    ]
    assert all(micro > 0 for _, micro, _ in rows) and measured > 0
    batch = profile._Batch((5,), "float64", classes, outputs)
    expected = "softmax" if classes else "identity"
    assert batch.model.out_activation_ == expected


def test_threads_benchmark_times_both_ways_on_a_tiny_run():
    from benchmarks import threads

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        row = threads.measure((4,), "float32", epochs=2, repeats=2, n_samples=300)
    assert row["serial_seconds"] > 0 and row["threads_seconds"] > 0
    assert row["speedup"] == row["serial_seconds"] / row["threads_seconds"]
    assert row["threads_cores"] > 0


def test_products_benchmark_times_each_product_of_a_layer(capsys):
    from benchmarks import products

    timings = products.measure(16, "float64")
    assert set(timings) == {"forward A @ W", "gradient A.T @ delta",
                            "backward delta @ W.T"}  # fmt: skip
    assert all(ours > 0 and blas > 0 for ours, blas in timings.values())
