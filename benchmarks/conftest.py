"""Shared fixtures and machine info for the benchmark suite."""

import pytest

from .machine import machine_info as describe_machine
from .workload import make_data


def pytest_benchmark_update_machine_info(config, machine_info):
    """Add CPU, library versions and BLAS to pytest-benchmark's JSON."""
    machine_info["fastbp"] = describe_machine()


@pytest.fixture(scope="session", params=["float64", "float32"])
def workload_data(request):
    """The workload's (X, y) in each dtype."""
    return make_data(request.param)
