"""Incremental re-evaluation: the same central differences as a full re-evaluation, cheaper."""
import math

import numpy as np
import pytest

import fastgrad as fg
from fastgrad.benchmark import DEFAULT_GRID, benchmark_problem, parse_size
from fastgrad.kernels.summation import pairwise_sum
from helpers import ARCHITECTURES, CONFIGURATIONS, make_problem, scaled_error



@pytest.mark.slow
@pytest.mark.parametrize("sizes", ARCHITECTURES, ids=lambda s: f"{len(s) - 2}hidden")
@pytest.mark.parametrize("hidden,output,loss", CONFIGURATIONS)
def test_incremental_equals_full_entry_by_entry(sizes, hidden, output, loss, force_threads):
    net, X, Y = make_problem(sizes, hidden, output, n=30, seed=7)
    full = fg.numerical_gradient(net, X, Y, loss=loss, backend="numba", strategy="full")
    serial = fg.numerical_gradient(net, X, Y, loss=loss, backend="numba", strategy="incremental")
    assert np.abs(serial - full).max() <= 1e-8 * np.abs(full).max()
    for threads in (1, 2):
        fg.set_num_threads(min(threads, fg.runtime_info()["max_threads"]))
        parallel = fg.numerical_gradient(net, X, Y, loss=loss, backend="numba-parallel", strategy="incremental")
        assert parallel.tobytes() == serial.tobytes()


@pytest.mark.slow
@pytest.mark.parametrize("h", [1e-3, 0.3, 2.0])
def test_large_steps_stay_exact_differences(h):
    """The change formulas are identities, not approximations: any h gives the same differences."""
    net, X, Y = make_problem([2, 6, 4, 3], "tanh", "sigmoid", n=20, seed=1)
    full = fg.numerical_gradient(net, X, Y, h=h, backend="numba", strategy="full")
    incremental = fg.numerical_gradient(net, X, Y, h=h, backend="numba")
    assert np.abs(incremental - full).max() <= 1e-10 * np.abs(full).max()


@pytest.mark.slow
@pytest.mark.parametrize("hidden,output", [("tanh", "identity"), ("sigmoid", "identity"), ("tanh", "sigmoid"),
                                           ("sigmoid", "sigmoid")])
@pytest.mark.parametrize("scale", [3e6, 1e5])
def test_large_inputs_give_finite_exact_differences(hidden, output, scale):
    """Inputs so large that a and u = tanh(h x) both round to +-1: the addition formula would
    divide 0 by 0 (it returned NaN for [1, 10, 1] at x = 3e6); the differences must be those
    of full re-evaluation wherever the loss is finite."""
    rng = np.random.default_rng(11)
    net = fg.MLP([2, 10, 5, 1], hidden=hidden, output=output, seed=11)
    X = scale * rng.choice([-1.0, 1.0], size=(6, 2)) * rng.uniform(0.5, 1.0, size=(6, 2))
    Y = rng.normal(size=(6, 1))
    assert np.isfinite(fg.loss(net, X, Y))
    full = fg.numerical_gradient(net, X, Y, backend="numba", strategy="full")
    for backend in ("numba", "numba-parallel"):
        incremental = fg.numerical_gradient(net, X, Y, backend=backend, strategy="incremental")
        assert np.isfinite(incremental).all()
        np.testing.assert_allclose(incremental, full, rtol=1e-9, atol=1e-9 * np.abs(full).max())
    single = fg.MLP([1, 10, 1], seed=11)  # the case reported
    X1, Y1 = np.full((5, 1), scale), np.zeros((5, 1))
    assert np.isfinite(fg.numerical_gradient(single, X1, Y1)).all()


def test_incremental_is_accurate_at_n_1000():
    """Pairwise sums of per-sample differences: as accurate as numpy's loop or better."""
    net, X, Y = benchmark_problem([8, 64, 4], 1000)
    exact = fg.analytic_gradient(net, X, Y, backend="numpy")
    incremental = fg.numerical_gradient(net, X, Y, backend="numba-parallel")
    numpy_loop = fg.numerical_gradient(net, X, Y, backend="numpy", entries=np.arange(0, net.n_params, 7))
    err_incremental = scaled_error(incremental, exact)
    err_numpy = np.abs(numpy_loop - exact[::7]).max() / np.abs(exact).max()
    assert err_incremental < 2e-10
    assert err_incremental <= 2 * err_numpy


@pytest.mark.slow
@pytest.mark.parametrize("size", DEFAULT_GRID)
def test_default_gradient_matches_backprop_to_rounding_on_the_bench_grid(size):
    """Every size of ``fastgrad bench``'s grid: the default numerical gradient (incremental,
    central, step eps^(1/2)) against backprop, relative to the largest entry (the bench's
    "rel. error vs analytic"); with the scipy-rule step eps^(1/3) it was 3e-11 to 1.1e-9."""
    sizes, n = parse_size(size)
    net, X, Y = benchmark_problem(sizes, n)
    assert scaled_error(fg.numerical_gradient(net, X, Y), fg.analytic_gradient(net, X, Y)) <= 1e-13


@pytest.mark.parametrize("n", [1, 7, 128, 129, 1000, 100_003])
def test_pairwise_sum_against_fsum(n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=n) * 10.0 ** rng.uniform(-8, 8, size=n)
    partial = np.empty(n // 128 + 2)
    exact = math.fsum(x)
    assert abs(pairwise_sum(x, n, partial) - exact) <= 4 * math.log2(n + 1) * 2.0 ** -53 * np.abs(x).sum() + 1e-300


def test_pairwise_beats_a_running_sum():
    x = np.full(1_000_000, 0.1)
    partial = np.empty(1_000_000 // 128 + 2)
    exact = math.fsum(x)
    running = 0.0
    for v in x:
        running += v
    assert abs(pairwise_sum(x, x.size, partial) - exact) < abs(running - exact) / 100


def test_strategy_is_validated():
    net, X, Y = make_problem([1, 3, 1])
    with pytest.raises(ValueError, match=r"strategy: unknown value 'lazy'"):
        fg.numerical_gradient(net, X, Y, strategy="lazy")
    with pytest.raises(ValueError, match=r"strategy: 'incremental' runs on the compiled backends only \(numba, numba-parallel, dask\), not 'numpy'"):
        fg.numerical_gradient(net, X, Y, backend="numpy", strategy="incremental")
