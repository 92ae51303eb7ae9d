"""Numerical-gradient backends: agreement, bit-for-bit parallelism, entry subsets."""
import numpy as np
import pytest

import fastgrad as fg
from helpers import make_problem

BACKENDS = ["python", "numpy", "numba", "numba-parallel"]


@pytest.mark.parametrize("output,loss", [("identity", "squared"), ("sigmoid", "mse"),
                                         ("softmax", "cross-entropy")])
def test_backends_agree_with_each_other(output, loss):
    net, X, Y = make_problem([3, 6, 4, 3], "tanh", output, n=20, seed=3)
    results = {b: fg.numerical_gradient(net, X, Y, loss=loss, backend=b) for b in BACKENDS}
    scale = np.abs(results["python"]).max()
    for backend, grad in results.items():
        assert np.abs(grad - results["python"]).max() <= 1e-9 * scale, backend


@pytest.mark.parametrize("threads", [1, 2])
def test_parallel_equals_serial_bit_for_bit(threads, force_threads):
    fg.set_num_threads(min(threads, fg.runtime_info()["max_threads"]))
    net, X, Y = make_problem([4, 16, 8, 3], "sigmoid", "softmax", n=40, seed=5)
    serial = fg.numerical_gradient(net, X, Y, backend="numba")
    parallel = fg.numerical_gradient(net, X, Y, backend="numba-parallel")
    assert parallel.tobytes() == serial.tobytes()


def test_entries_select_a_subset_in_the_given_order():
    net, X, Y = make_problem([2, 7, 2], n=10, seed=1)
    full = fg.numerical_gradient(net, X, Y, backend="numba")
    entries = np.array([20, 3, 0, 20, net.n_params - 1])
    for backend in BACKENDS:
        part = fg.numerical_gradient(net, X, Y, backend=backend, entries=entries)
        np.testing.assert_allclose(part, full[entries], rtol=1e-9, atol=1e-12)


def test_numerical_gradient_does_not_modify_theta():
    net, X, Y = make_problem([2, 5, 1], n=8)
    before = net.theta.copy()
    for backend in BACKENDS:
        fg.numerical_gradient(net, X, Y, backend=backend)
        assert net.theta.tobytes() == before.tobytes(), backend


def test_step_size_controls_truncation_error():
    net, X, Y = make_problem([1, 10, 1], n=25, seed=2)
    exact = fg.analytic_gradient(net, X, Y)
    coarse = np.abs(fg.numerical_gradient(net, X, Y, h=1e-2) - exact).max()
    fine = np.abs(fg.numerical_gradient(net, X, Y, h=1e-3) - exact).max()
    assert 50 < coarse / fine < 200  # central differences: error ~ h^2


def test_threads_are_used_only_where_they_pay_off():
    from fastgrad.gradients.numerical import threads_pay_off
    assert not threads_pay_off(25, 31, 31, "incremental")       # the textbook net: serial is faster
    assert threads_pay_off(25, 31, 31, "full")                   # ... but not in full re-evaluation
    assert threads_pay_off(1000, 836, 836, "incremental")
