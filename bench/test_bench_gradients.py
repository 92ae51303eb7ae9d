"""Gradient timings, every backend side by side, one group per network size.

The python backend differentiates a fixed subset of entries at large sizes; its
``scale`` (in extra_info) turns that time into a whole gradient's, and report.py applies it.
Compilation is excluded: each case runs once before timing.
"""
import pytest

from fastgrad.benchmark import gradient_cases

SIZES = [([1, 10, 1], 25), ([8, 64, 4], 1000), ([16, 64, 64, 8], 500)]
CASES = [case for sizes, n in SIZES for case in gradient_cases(sizes, n)]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.group}:{c.name}" for c in CASES])
def test_gradient(record_environment, case):
    benchmark = record_environment
    benchmark.group = case.group
    benchmark.extra_info.update(case=case.name, scale=case.scale, n_params=case.n_params)
    case.run()  # warm-up: compile and fill caches
    result = benchmark(case.run)
    assert result.shape[0] * case.scale == pytest.approx(case.n_params)
