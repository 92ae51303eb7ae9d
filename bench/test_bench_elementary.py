"""The vectorised tanh and exponential of the kernels against numpy's, per element, at a
layer's sizes (the textbook's hidden layer holds 250 values: 10 units × 25 samples).

    python -m pytest bench/test_bench_elementary.py --benchmark-group-by=param:n
"""
import numpy as np
import pytest

from fastgrad.kernels.elementary import _exp_of_abs, tanh_into

pytestmark = pytest.mark.slow  # timings, not features: the full tier

SIZES = [25, 250, 2500]
REPEAT = 200  # calls per timed round: a call of 25 elements takes ~100 ns


def _values(n):
    return np.random.default_rng(n).normal(scale=2.0, size=n)


def _per_call(function, *args):
    def run():
        for _ in range(REPEAT):
            function(*args)
    return run


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("which", ["fastgrad tanh_into", "numpy tanh"])
def test_tanh(record_environment, which, n):
    benchmark = record_environment
    x, out, scratch = _values(n), np.empty(n), np.empty(n)
    run = _per_call(tanh_into, x, out, scratch) if which.startswith("fastgrad") else _per_call(np.tanh, x, out)
    benchmark.extra_info.update(n=n, calls_per_round=REPEAT)
    run()  # warm-up: compile
    benchmark(run)
    assert np.max(np.abs(out - np.tanh(x)) / np.spacing(np.abs(np.tanh(x)))) <= 2.0


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("which", ["fastgrad exponential", "numpy exp"])
def test_exponential(record_environment, which, n):
    """e^|x| (the kernels' exponential takes |x| and a scale; numpy's is given |x|)."""
    benchmark = record_environment
    x, out, scratch = _values(n), np.empty(n), np.empty(n)
    a = np.abs(x)
    run = _per_call(_exp_of_abs, x, 1.0, 700.0, out, scratch) if which.startswith("fastgrad") \
        else _per_call(np.exp, a, out)
    benchmark.extra_info.update(n=n, calls_per_round=REPEAT)
    run()
    benchmark(run)
    assert np.max(np.abs(out - np.exp(a)) / np.spacing(np.exp(a))) <= 2.0
