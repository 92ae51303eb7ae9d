"""Gradient timings, every backend side by side, one group per network size.

The python backend differentiates a fixed subset of entries at large sizes; its
``scale`` (in extra_info) turns that time into a whole gradient's, and report.py applies it.
Compilation is excluded: each compiled case runs once before timing.
"""
import functools

import numpy as np
import pytest

from fastgrad.benchmark import benchmark_problem, gradient_cases
from fastgrad.gradients.analytic import analytic_gradient

pytestmark = pytest.mark.slow  # timings, not features: the full tier

SIZES = [([1, 10, 1], 25), ([8, 64, 4], 1000), ([16, 64, 64, 8], 500)]
CASES = [(sizes, n, case) for sizes, n in SIZES for case in gradient_cases(sizes, n)]


@functools.lru_cache(maxsize=None)
def _exact(sizes, n):
    """The gradient by numpy backprop: what every timed case must reproduce."""
    return analytic_gradient(*benchmark_problem(list(sizes), n), backend="numpy")


@pytest.mark.parametrize("sizes,n,case", CASES, ids=[f"{c.group}:{c.name}" for _, _, c in CASES])
def test_gradient(record_environment, sizes, n, case):
    benchmark = record_environment
    benchmark.group = case.group
    benchmark.extra_info.update(case=case.name, scale=case.scale, n_params=case.n_params)
    if "numba" in case.name:
        case.run()  # warm-up: compile and fill caches (the python and numpy loops compile nothing)
    result = benchmark(case.run)
    exact = _exact(tuple(sizes), n)
    expected = exact if case.entries is None else exact[case.entries]
    # what was timed is the gradient: backprop to rounding, differences to their truncation error
    tolerance = 1e-12 if case.name.startswith("analytic/") else 1e-8
    np.testing.assert_allclose(result, expected, rtol=0, atol=tolerance * np.abs(exact).max())
