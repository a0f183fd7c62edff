"""The classification benchmark command, on a slice of Adult and few epochs."""

import json
from pathlib import Path

import pytest

from benchmarks import classify

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
FEW_EPOCHS = {
    "adult": dict(classify.SETTINGS["adult"], max_iter=3),
    "digits": dict(classify.SETTINGS["digits"], max_iter=5),
}
RESULT_FIELDS = {
    "accuracy",
    "log_loss",
    "seconds_per_fit",
    "seconds",
    "epochs",
    "flops_per_fit",
    "gflops_per_second",
}


def check_entry(entry, epochs, n_train):
    assert entry["n_train"] == n_train and entry["repeats"] == 1
    assert entry["settings"]["max_iter"] == epochs
    assert entry["settings"]["random_state"] == classify.RANDOM_STATE
    results = entry["results"]
    assert set(results) == set(classify.IMPLEMENTATIONS)
    for result in results.values():
        assert set(result) == RESULT_FIELDS
        assert result["epochs"] == epochs and len(result["seconds"]) == 1
        assert 0 < result["accuracy"] <= 1 and result["log_loss"] > 0
    fast = results["fastbp"]
    assert set(entry["speedups"]) == set(results) - {"fastbp"}
    for name, speedup in entry["speedups"].items():
        assert speedup == pytest.approx(
            results[name]["seconds_per_fit"] / fast["seconds_per_fit"]
        )
        # The same arithmetic from the same random_state: the same classifier.
        assert results[name]["accuracy"] == fast["accuracy"]
    assert entry["speedup"] == entry["speedups"]["scikit-learn"]
    assert entry["identical_predictions"]
    assert entry["max_probability_difference"] < 1e-9


@pytest.mark.skipif(not (SHARED / "adult").is_dir(), reason="no Adult data")
def test_adult_slice_and_digits(tmp_path):
    tasks = [classify.adult_task(SHARED, n_train=2000, n_test=1000),
             classify.digits_task()]  # fmt: skip
    report = {
        "machine": classify.machine_info(),
        "data_home": str(SHARED),
        "repeats": 1,
        "datasets": classify.run(tasks, repeats=1, settings=FEW_EPOCHS),
        "skipped": {},
        "seconds": 0.0,
    }
    classify.write_report(tmp_path, report)
    saved = json.loads((tmp_path / "classify.json").read_text())
    assert set(saved["datasets"]) == {"adult", "digits"}
    adult, digits = saved["datasets"]["adult"], saved["datasets"]["digits"]
    check_entry(adult, 3, 2000)
    check_entry(digits, 5, 1347)
    assert adult["n_test"] == 1000 and adult["classes"] == ["<=50K", ">50K"]
    assert adult["n_features_in"] == 14 and adult["n_outputs"] == 1
    assert digits["n_inputs"] == 64 and digits["n_outputs"] == 10
    assert saved["machine"]["cores"] >= 1 and saved["machine"]["blas"]
    table = (tmp_path / "classify.md").read_text()
    assert f"| adult | {adult['n_inputs']}-64-1 | 3 | 200 | fastbp |" in table
    assert "| digits | 64-64-10 | 5 | 200 | scikit-learn |" in table
    assert "| digits | 64-64-10 | 5 | 200 | scikit-learn, 1 BLAS thread |" in table
    if saved["figure"]:
        assert (tmp_path / "classify.png").read_bytes()[:4] == b"\x89PNG"
    else:
        assert "matplotlib" in saved["figure_skipped"]


def test_without_adult_runs_digits_only(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(classify.SETTINGS, "digits", FEW_EPOCHS["digits"])
    monkeypatch.setattr(classify, "gemm_peak", lambda *args, **kwargs: 1.0)
    out = tmp_path / "out"
    classify.main(["--out", str(out), "--data-home", str(tmp_path / "none"),
                   "--repeats", "1"])  # fmt: skip
    assert "Adult not found, running digits only" in capsys.readouterr().out
    saved = json.loads((out / "classify.json").read_text())
    assert list(saved["datasets"]) == ["digits"]
    assert "fetch_adult" in saved["skipped"]["adult"]
    check_entry(saved["datasets"]["digits"], 5, 1347)
    assert "adult not run" in (out / "classify.md").read_text()


def test_default_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("FASTBP_DATA_HOME", str(tmp_path))
    assert classify.default_data_home() == tmp_path
    monkeypatch.delenv("FASTBP_DATA_HOME")
    if SHARED.is_dir():
        assert classify.default_data_home() == SHARED
