"""fastbp.datasets: data home, UCI and Adult loading and fetching, the worked
example."""

import contextlib
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

import fastbp.datasets._adult
import fastbp.datasets._worked_example
from fastbp import BackpropRegressor
from fastbp.datasets import (
    fetch_adult,
    fetch_uci,
    get_data_home,
    list_uci,
    load_adult,
    load_uci,
    load_worked_example,
    n_splits,
)

# The shared data lives beside the project: ../shared/datasets/{uci,adult}.
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
UCI = SHARED / "uci"
needs_uci = pytest.mark.skipif(not UCI.is_dir(), reason=f"no UCI data at {UCI}")
SIX = ["concrete", "energy", "kin8nm", "power-plant", "wine-quality-red", "yacht"]
ADULT = SHARED / "adult"
needs_adult = pytest.mark.skipif(
    not ADULT.is_dir(), reason=f"no Adult data at {ADULT}"
)


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


@contextlib.contextmanager
def http_server(root):
    """A local HTTP server on 127.0.0.1 serving ``root``; yields its address."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def served(tmp_path):
    """A local HTTP server serving a copy of the UCI folders."""
    if not UCI.is_dir():
        pytest.skip(f"no UCI data at {UCI}")
    root = tmp_path / "served"
    shutil.copytree(UCI / "yacht", root / "yacht")
    with http_server(root) as address:
        yield root, address + "{name}/"


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


# Adult. The shared copy's digests, as published in its README.
ADULT_COPY_SHA256 = {
    "adult.data": "a6371542c4cd3528181b3dbe3fa10785f1d283cb365a740d539bc1dfd0754b47",
    "adult.test": "ad8923b0d47796d077a097fc5c006a4663c98768863d378aa284eadae0eb871b",
    "adult.names": "c248284c0b5de30c9e1958d6cdd168a34a654758b620e68f46aefa83fc0a576a",
}
# Sizes and MD5s of the original UCI files, as recorded by many independent
# loaders of the UCI repository's files.
ADULT_ORIGINAL_MD5 = {
    "adult.data": (3_974_305, "5d7c39d7b8804f071cdd1f2a7c460872"),
    "adult.test": (2_003_153, "35238206dfdf7f1fe215bbb874adecdc"),
    "adult.names": (5_229, "1a7cdb3ff7a1b709968b1c7a11def63e"),
}
# The numeric columns, as the data's README lists them (an independent spec).
ADULT_NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss",
                 "hours_per_week"]  # fmt: skip


def original_adult(folder):
    """The UCI files rebuilt from the shared copy in ``folder``: the header
    row removed, and adult.test's first line put back."""
    folder.mkdir(parents=True)
    for filename in ADULT_COPY_SHA256:
        lines = (ADULT / filename).read_bytes().splitlines(keepends=True)
        if filename == "adult.data":
            lines = lines[1:]
        elif filename == "adult.test":
            lines = [b"|1x3 Cross validator\n", *lines[1:]]
        (folder / filename).write_bytes(b"".join(lines))
    return folder


@pytest.fixture
def adult_original(tmp_path):
    if not ADULT.is_dir():
        pytest.skip(f"no Adult data at {ADULT}")
    return original_adult(tmp_path / "original" / "adult")


def assert_same_split(a, b):
    for expected, actual in zip(a, b):
        if hasattr(expected, "equals"):
            assert expected.equals(actual)
        else:
            assert_array_equal(expected, actual)


@needs_adult
def test_load_adult_published_split():
    X_train, X_test, y_train, y_test = load_adult(SHARED)
    assert X_train.shape == (32561, 14) and X_test.shape == (16281, 14)
    assert list(X_train.columns) == list(fastbp.datasets._adult.COLUMNS)
    for column in X_train.columns:
        numeric = column in ADULT_NUMERIC
        assert (X_train[column].dtype == np.int64) == numeric, column
        if not numeric:
            assert X_train[column].map(type).eq(str).all(), column
            assert not X_train[column].str.startswith(" ").any(), column
    assert X_train.loc[0, "workclass"] == "State-gov"
    assert X_train.loc[0, "capital_gain"] == 2174
    assert set(np.unique(y_train)) == set(np.unique(y_test)) == {"<=50K", ">50K"}
    assert np.mean(y_train == ">50K") == pytest.approx(0.241, abs=5e-4)
    assert (y_test == ">50K").sum() == 3846  # the test file's "full stop" labels
    missing = X_train == "?"
    assert sorted(missing.columns[missing.any()]) == [
        "native_country",
        "occupation",
        "workclass",
    ]
    assert missing.any(axis=1).sum() == 2399  # as the copy's README says
    assert not X_train.isna().any().any()


@needs_adult
def test_load_adult_data_home_rules(monkeypatch):
    expected = load_adult(SHARED)
    assert_same_split(expected, load_adult(ADULT))  # the folder itself
    monkeypatch.setenv("FASTBP_DATA_HOME", str(SHARED))
    assert_same_split(expected, load_adult())
    monkeypatch.setenv("FASTBP_DATA_HOME", str(ADULT))
    assert_same_split(expected, load_adult())


def test_load_adult_reads_the_original_layout(adult_original):
    expected = load_adult(ADULT)
    assert (adult_original / "adult.test").read_text().startswith("|1x3")
    assert_same_split(expected, load_adult(adult_original))
    assert_same_split(expected, load_adult(adult_original.parent))


@needs_adult
def test_load_adult_as_arrays():
    X_train, X_test, y_train, _ = load_adult(SHARED, as_frame=False)
    assert isinstance(X_train, np.ndarray) and X_train.dtype == object
    assert X_test.shape == (16281, 14)
    assert X_train[0, 0] == 39 and X_train[0, 1] == "State-gov"
    assert y_train.shape == (32561,)


def test_load_adult_missing_data_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"fetch_adult.*FASTBP_DATA_HOME"):
        load_adult(tmp_path)


def test_load_adult_refuses_other_labels(tmp_path):
    folder = tmp_path / "adult"
    folder.mkdir()
    row = "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, "
    row += "Not-in-family, White, Male, 2174, 0, 40, United-States, {}\n"
    (folder / "adult.data").write_text(row.format("<=50K"))
    (folder / "adult.test").write_text(row.format("yes"))
    with pytest.raises(ValueError, match=r"labels \['yes'\]"):
        load_adult(tmp_path)


@needs_adult
def test_recorded_adult_checksums_are_the_original_files(tmp_path):
    """The copy is the UCI files with a header row (replacing adult.test's
    first line): rebuilt, they have the UCI files' sizes and MD5s, and the
    SHA-256s fastbp records."""
    from fastbp.datasets._download import read_checksums

    for filename, digest in ADULT_COPY_SHA256.items():
        assert hashlib.sha256((ADULT / filename).read_bytes()).hexdigest() == digest
    folder = original_adult(tmp_path / "adult")
    recorded = read_checksums("adult_checksums.json")
    assert sorted(recorded) == sorted(ADULT_ORIGINAL_MD5)
    for filename, (size, md5) in ADULT_ORIGINAL_MD5.items():
        content = (folder / filename).read_bytes()
        assert len(content) == size
        assert hashlib.md5(content).hexdigest() == md5
        assert hashlib.sha256(content).hexdigest() == recorded[filename]


@pytest.fixture
def adult_served(adult_original, monkeypatch):
    """A local HTTP server serving the rebuilt UCI files as ADULT_URL."""
    with http_server(adult_original) as address:
        monkeypatch.setattr(fastbp.datasets._adult, "ADULT_URL", address)
        yield adult_original


def test_fetch_adult_downloads_and_verifies(adult_served, tmp_path):
    home = tmp_path / "home"
    folder = fetch_adult(home)
    assert folder == home / "adult"
    assert sorted(p.name for p in home.iterdir()) == ["adult"]  # no staging left
    assert sorted(p.name for p in folder.iterdir()) == sorted(ADULT_COPY_SHA256)
    assert_same_split(load_adult(ADULT), load_adult(home))
    assert fetch_adult(folder) == folder  # the folder itself, already verified


def test_fetch_adult_refuses_a_corrupted_file(adult_served, tmp_path):
    with open(adult_served / "adult.test", "a") as f:
        f.write("25, Private, 226802, 11th, 7, Never-married, Machine-op-inspct, "
                "Own-child, Black, Male, 0, 0, 40, United-States, >50K.\n")  # fmt: skip
    home = tmp_path / "home"
    with pytest.raises(ValueError, match=r"Checksum mismatch for adult/adult\.test"):
        fetch_adult(home)
    assert list(home.iterdir()) == []  # nothing installed, nothing left behind


def test_fetch_adult_replaces_only_its_files(adult_served, tmp_path):
    """Into a folder holding another layout of the data (the shared copy) and
    a file of the user's: the three files are replaced, the user's is kept."""
    folder = tmp_path / "mine"
    folder.mkdir()
    for filename in ADULT_COPY_SHA256:
        shutil.copyfile(ADULT / filename, folder / filename)
    (folder / "notes.txt").write_text("mine")
    assert fetch_adult(folder) == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*ADULT_COPY_SHA256, "notes.txt"]
    )
    for filename in ADULT_COPY_SHA256:
        content = (folder / filename).read_bytes()
        assert content == (adult_served / filename).read_bytes()


def test_fetch_adult_leaves_an_existing_folder_as_it_was_on_a_mismatch(
    adult_served, tmp_path
):
    (adult_served / "adult.names").write_text("not the description\n")
    folder = tmp_path / "mine"
    folder.mkdir()
    shutil.copyfile(ADULT / "adult.data", folder / "adult.data")
    with pytest.raises(ValueError, match=r"Checksum mismatch.*adult\.names"):
        fetch_adult(folder)
    assert [p.name for p in folder.iterdir()] == ["adult.data"]  # no staging
    assert (folder / "adult.data").read_bytes() == (ADULT / "adult.data").read_bytes()


def test_fetch_adult_keeps_verified_files_without_downloading(
    adult_original, monkeypatch
):
    monkeypatch.setattr(fastbp.datasets._adult, "ADULT_URL", "http://127.0.0.1:9/")
    assert fetch_adult(adult_original.parent) == adult_original
