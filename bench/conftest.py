import os

import pytest

from fastgrad.benchmark import environment, tune_allocator

if not os.environ.get("FASTGRAD_DEFAULT_ALLOCATOR"):
    tune_allocator()  # as `fastgrad bench` does: numpy's temporaries stop page-faulting


@pytest.fixture
def record_environment(benchmark):
    """Store machine, versions, threads, threading layer and allocator with every benchmark."""
    benchmark.extra_info.update(environment())
    return benchmark
