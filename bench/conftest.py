import pytest

from fastgrad.benchmark import environment


@pytest.fixture
def record_environment(benchmark):
    """Store machine, versions, threads and threading layer with every benchmark."""
    benchmark.extra_info.update(environment())
    return benchmark
