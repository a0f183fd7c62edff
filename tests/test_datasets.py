"""fastbp.datasets: data home, UCI loading and fetching, the worked example."""

import doctest
import functools
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import fastbp.datasets._worked_example
from fastbp import BackpropRegressor
from fastbp.datasets import (
    fetch_uci,
    get_data_home,
    list_uci,
    load_uci,
    load_worked_example,
    n_splits,
)

# The shared data lives beside the project: ../shared/datasets/uci.
UCI = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "uci"
needs_uci = pytest.mark.skipif(not UCI.is_dir(), reason=f"no UCI data at {UCI}")
SIX = ["concrete", "energy", "kin8nm", "power-plant", "wine-quality-red", "yacht"]


def test_data_home_argument_then_environment_then_default(monkeypatch, tmp_path):
    monkeypatch.setenv("FASTBP_DATA_HOME", str(tmp_path / "env"))
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert get_data_home() == tmp_path / "env"
    monkeypatch.delenv("FASTBP_DATA_HOME")
    assert get_data_home() == Path.home() / "fastbp_data"


@needs_uci
def test_list_and_count_the_six_data_sets(monkeypatch):
    assert list_uci(UCI) == SIX
    monkeypatch.setenv("FASTBP_DATA_HOME", str(UCI))
    assert list_uci() == SIX
    assert all(n_splits(name) == 20 for name in SIX)


@needs_uci
@pytest.mark.parametrize("name", SIX)
def test_load_uci_follows_the_index_files(name):
    X_train, X_test, y_train, y_test = load_uci(name, split=3, data_home=UCI)
    data = np.loadtxt(UCI / name / "data.txt")
    train = np.loadtxt(UCI / name / "index_train_3.txt", dtype=int)
    test = np.loadtxt(UCI / name / "index_test_3.txt", dtype=int)
    assert not set(train) & set(test)
    assert len(train) + len(test) == len(data)
    assert_array_equal(y_train, data[train, -1])
    assert_array_equal(X_test, data[test, :-1])
    assert X_train.shape == (len(train), data.shape[1] - 1)
    assert y_test.shape == (len(test),)


def test_missing_data_and_split_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="fetch_uci"):
        load_uci("yacht", data_home=tmp_path)
    if UCI.is_dir():
        with pytest.raises(ValueError, match="no split 20"):
            load_uci("yacht", split=20, data_home=UCI)


@pytest.fixture
def served(tmp_path):
    """A local HTTP server on 127.0.0.1 serving a copy of the UCI folders."""
    if not UCI.is_dir():
        pytest.skip(f"no UCI data at {UCI}")
    root = tmp_path / "served"
    shutil.copytree(UCI / "yacht", root / "yacht")
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(root)
    )
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/{{name}}/"
    server.shutdown()
    server.server_close()


def test_fetch_uci_downloads_and_verifies(served, tmp_path):
    _, url = served
    home = tmp_path / "home"
    folder = fetch_uci("yacht", data_home=home, url=url)
    assert folder == home / "yacht"
    for expected, actual in zip(
        load_uci("yacht", 5, data_home=UCI), load_uci("yacht", 5, data_home=home)
    ):
        assert_array_equal(expected, actual)
    assert list_uci(home) == ["yacht"]
    assert sorted(p.name for p in home.iterdir()) == ["yacht"]  # no staging left


def test_fetch_uci_refuses_a_corrupted_file(served, tmp_path):
    root, url = served
    with open(root / "yacht" / "index_test_7.txt", "a") as f:
        f.write("0\n")
    home = tmp_path / "home"
    with pytest.raises(ValueError, match="Checksum mismatch.*index_test_7"):
        fetch_uci("yacht", data_home=home, url=url)
    assert list(home.iterdir()) == []  # nothing installed, nothing left behind


def test_fetch_uci_knows_only_recorded_data_sets(tmp_path):
    with pytest.raises(ValueError, match="Unknown data set"):
        fetch_uci("boston", data_home=tmp_path)


def test_recorded_checksums_match_the_shared_files():
    from fastbp.datasets._uci import _checksums

    checksums = _checksums()
    assert sorted(checksums) == SIX
    if UCI.is_dir():
        for name, files in checksums.items():
            for filename, digest in files.items():
                content = (UCI / name / filename).read_bytes()
                assert hashlib.sha256(content).hexdigest() == digest


def test_worked_example():
    example = load_worked_example()
    assert_array_equal(example.data, [[0.1, 0.3]])
    assert_array_equal(example.target, [0.03])
    s = example.data[0] @ example.coefs[0][:, 0] + example.intercepts[0][0]
    assert s == pytest.approx(1.94)
    result = doctest.testmod(fastbp.datasets._worked_example)
    assert result.attempted > 0 and result.failed == 0


@needs_uci
def test_yacht_split_0_beats_the_papers_backprop():
    """The paper's protocol shape (standardised inputs and target, 50 ReLU,
    40 epochs, batch 32): test RMSE below the paper's BP mean, 1.182."""
    X_train, X_test, y_train, y_test = load_uci("yacht", 0, data_home=UCI)
    network = BackpropRegressor(
        (50,), learning_rate_init=0.01, batch_size=32, max_iter=40, random_state=0
    )
    model = TransformedTargetRegressor(
        make_pipeline(StandardScaler(), network), transformer=StandardScaler()
    )
    with pytest.warns(Warning, match="Maximum iterations"):
        model.fit(X_train, y_train)
    rmse = np.sqrt(np.mean((model.predict(X_test) - y_test) ** 2))
    assert rmse < 1.182
