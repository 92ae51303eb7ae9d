"""Numerical-gradient backends: agreement, bit-for-bit parallelism, entry subsets."""
import numpy as np
import pytest

import fastgrad as fg
from helpers import MIXED, make_problem

BACKENDS = ["python", "numpy", "numba", "numba-parallel"]


@pytest.mark.slow
@pytest.mark.parametrize("output,loss", [("identity", "squared"), ("sigmoid", "mse"),
                                         ("softmax", "cross-entropy")])
def test_backends_agree_with_each_other(output, loss):
    net, X, Y = make_problem([3, 6, 4, 3], "tanh", output, n=20, seed=3)
    results = {b: fg.numerical_gradient(net, X, Y, loss=loss, backend=b) for b in BACKENDS}
    scale = np.abs(results["python"]).max()
    for backend, grad in results.items():
        assert np.abs(grad - results["python"]).max() <= 1e-9 * scale, backend


@pytest.mark.slow
@pytest.mark.parametrize("threads", [1, 2])
def test_parallel_equals_serial_bit_for_bit(threads, force_threads):
    fg.set_num_threads(min(threads, fg.runtime_info()["max_threads"]))
    # tanh, then sigmoid, under softmax: the mixed kernels of the gradient tests (no compile of its own)
    net, X, Y = make_problem([4, 16, 8, 3], MIXED, "softmax", n=40, seed=5)
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
    from fastgrad.policy import numerical_backend
    assert numerical_backend("numba-parallel", 25, 31, 31, "incremental") == "numba"  # the textbook net
    assert numerical_backend("numba-parallel", 25, 31, 31, "full") == "numba-parallel"  # ... but not in full
    assert numerical_backend("numba-parallel", 1000, 836, 836, "incremental") == "numba-parallel"
    assert numerical_backend("numba", 1000, 836, 836, "incremental") == "numba"  # never threads unasked


UNEVEN_SHARES = """
import numpy as np
import fastgrad as fg
from fastgrad import policy
policy.NUMERICAL_MIN_WORK = 0  # the parallel kernels (the gradient's and training's), however small the problem
policy.contended = lambda: False  # ... and however busy the machine
rng = np.random.default_rng(2)
net = fg.MLP([3, 5, 4, 2], hidden=["tanh", "sigmoid"], output="sigmoid", seed=2)   # P = 54 entries
X, Y = rng.normal(size=(13, 3)), rng.uniform(size=(13, 2))
assert fg.runtime_info()["max_threads"] == 4
checked = 0
for method, strategy in [("central", "incremental"), ("central", "full"), ("forward", "incremental"),
                         ("complex-step", None)]:
    serial = fg.numerical_gradient(net, X, Y, backend="numba", method=method, strategy=strategy)
    for threads in (1, 2, 3, 4):
        fg.set_num_threads(threads)
        parallel = fg.numerical_gradient(net, X, Y, backend="numba-parallel", method=method, strategy=strategy)
        assert parallel.tobytes() == serial.tobytes(), (method, strategy, threads)
        checked += 1
    fg.set_num_threads(4)
serial, parallel = net.copy(), net.copy()
fg.train(serial, X, Y, backend="numba", steps=7, eta=0.1)
for threads in (3, 4):
    fg.set_num_threads(threads)
    twin = net.copy()
    fg.train(twin, X, Y, backend="numba-parallel", steps=7, eta=0.1)
    assert twin.theta.tobytes() == serial.theta.tobytes(), threads
    checked += 1
print("checked", checked)
"""


@pytest.mark.slow
def test_one_to_four_threads_with_uneven_shares_equal_serial_bit_for_bit(tmp_path):
    """54 entries over 1-4 threads (shares of 14/13 entries and the like), every difference job
    and the parallel training kernel, in a process started with NUMBA_NUM_THREADS=4."""
    import os
    import subprocess
    import sys
    env = dict(os.environ, NUMBA_NUM_THREADS="4")
    proc = subprocess.run([sys.executable, "-c", UNEVEN_SHARES], env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[-1] == "18"
