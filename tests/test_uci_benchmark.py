"""The UCI benchmark command, on two splits of the smallest data set."""

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks import uci

UCI = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "uci"
pytestmark = pytest.mark.skipif(not UCI.is_dir(), reason=f"no UCI data at {UCI}")


def test_paper_protocol_on_yacht(tmp_path):
    uci.main(["--data-home", str(UCI), "--splits", "2", "--datasets", "yacht",
              "--mode", "paper", "--out", str(tmp_path)])  # fmt: skip
    report = json.loads((tmp_path / "uci.json").read_text())
    yacht = report["results"]["yacht"]
    assert yacht["splits"] == 2
    for implementation in ("fastbp", "scikit-learn"):
        runs = yacht[implementation]["runs"]
        assert len(runs) == 2
        rmses = [run["rmse"] for run in runs]
        assert yacht[implementation]["rmse_mean"] == pytest.approx(np.mean(rmses))
        assert all(0 < r < 5 for r in rmses)  # yacht's target spans 0 to 62
        assert {run["learning_rate"] for run in runs} <= set(uci.LEARNING_RATES)
    table = (tmp_path / "uci.md").read_text()
    assert "| yacht | 2 | 1.182 +- 0.165 |" in table


def test_standardised_split_scores_in_original_units():
    data = uci.standardised_split("yacht", 0, UCI)
    X_train, z_train = data["train"]
    assert np.allclose(X_train.mean(axis=0), 0) and np.allclose(z_train.mean(), 0)
    assert len(data["fit"][0]) + len(data["val"][0]) == len(X_train)
    _, _, y_train, _ = uci.load_uci("yacht", 0, UCI)
    assert np.allclose(data["unscale"](z_train), y_train)
