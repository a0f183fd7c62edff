"""Data sets: the UCI regression benchmark, the Adult census data and the
lecture's worked example."""

from ._adult import fetch_adult, load_adult
from ._download import get_data_home
from ._uci import fetch_uci, list_uci, load_uci, n_splits
from ._worked_example import load_worked_example

__all__ = [
    "fetch_adult",
    "fetch_uci",
    "get_data_home",
    "list_uci",
    "load_adult",
    "load_uci",
    "load_worked_example",
    "n_splits",
]
