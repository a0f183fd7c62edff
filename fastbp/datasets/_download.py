"""Where data sets live, and downloading them with recorded checksums.

Shared by every data set of :mod:`fastbp.datasets`: the data directory
(:func:`get_data_home`), the SHA-256 digests recorded in the package
(``*_checksums.json``), and :func:`download_verified`, which installs files
only once every one of them matches its digest.
"""

import hashlib
import json
import os
import shutil
import tempfile
import urllib.request
from importlib import resources
from pathlib import Path

DATA_HOME_VARIABLE = "FASTBP_DATA_HOME"


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


def read_checksums(filename):
    """The digests recorded in ``fastbp/datasets/<filename>`` (a JSON file)."""
    text = resources.files("fastbp.datasets").joinpath(filename)
    return json.loads(text.read_text())


def sha256(content):
    return hashlib.sha256(content).hexdigest()


def verified(folder, checksums):
    """Whether ``folder`` holds every file of ``{filename: sha256}``, intact."""
    return all(
        (folder / f).is_file() and sha256((folder / f).read_bytes()) == digest
        for f, digest in checksums.items()
    )


def download_verified(base, checksums, destination):
    """Download ``base + filename`` for every file of ``checksums`` into
    ``destination``, installing nothing unless every file matches.

    The files are staged in a hidden temporary folder beside (or, when it
    exists, inside) ``destination``. A new ``destination`` appears in one
    rename; in an existing one each recorded file is replaced by a rename and
    other files are left alone. On any error the staging folder is removed.

    Parameters
    ----------
    base : str
        Address of the folder holding the files (ends with '/').
    checksums : dict of str to str
        ``{filename: SHA-256 hex digest}``.
    destination : pathlib.Path

    Returns
    -------
    destination : pathlib.Path
    """
    exists = destination.is_dir()
    parent = destination if exists else destination.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}-", dir=parent))
    try:
        for filename, expected in sorted(checksums.items()):
            with urllib.request.urlopen(base + filename, timeout=60) as response:
                content = response.read()
            actual = sha256(content)
            if actual != expected:
                raise ValueError(
                    f"Checksum mismatch for {destination.name}/{filename} from "
                    f"{base}: expected {expected}, got {actual}. Nothing was "
                    "installed."
                )
            (staging / filename).write_bytes(content)
        if exists:
            for filename in checksums:
                os.replace(staging / filename, destination / filename)
        else:
            staging.rename(destination)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return destination
