"""Data sets: the UCI regression benchmark and the lecture's worked example."""

from ._uci import fetch_uci, get_data_home, list_uci, load_uci, n_splits
from ._worked_example import load_worked_example

__all__ = [
    "fetch_uci",
    "get_data_home",
    "list_uci",
    "load_uci",
    "load_worked_example",
    "n_splits",
]
