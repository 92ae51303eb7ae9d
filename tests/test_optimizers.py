"""Optimizers compiled into the training kernel: their formulas, and the project's equalities."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastgrad as fg
from fastgrad import optimizers
from fastgrad.optimizers import Adam, Momentum, optimizer
from helpers import make_problem


def reference(opt, net, X, Y, steps, eta):
    """The optimizer's formulas in numpy, on backprop's gradient."""
    theta = net.theta.copy()
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for t in range(1, steps + 1):
        net.theta = theta
        g = fg.analytic_gradient(net, X, Y)
        if opt.name == "momentum":
            m = opt.beta * m + g
            theta = theta - eta * m
        else:
            m = opt.beta1 * m + (1 - opt.beta1) * g
            v = opt.beta2 * v + (1 - opt.beta2) * (g * g)
            theta = theta - eta * (m * (1 / (1 - opt.beta1 ** t))) / (np.sqrt(v * (1 / (1 - opt.beta2 ** t)))
                                                                        + opt.epsilon)
    return theta


@pytest.mark.parametrize("opt", [Momentum(beta=0.8), Adam(beta1=0.85, beta2=0.99, epsilon=1e-7)])
def test_analytic_steps_follow_the_formulas(opt):
    net, X, Y = make_problem([3, 5, 2], "tanh", "identity", n=11)
    expected = reference(opt, net.copy(), X, Y, 12, 0.05)
    fg.train(net, X, Y, gradient="analytic", steps=12, eta=0.05, optimizer=opt)
    np.testing.assert_allclose(net.theta, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["momentum", "adam"])
def test_numerical_training_tracks_analytic(name):
    net, X, Y = make_problem([3, 5, 2], "tanh", "identity", n=11)
    twin = net.copy()
    fg.train(net, X, Y, gradient="analytic", steps=40, eta=0.02, optimizer=name)
    fg.train(twin, X, Y, gradient="numerical", steps=40, eta=0.02, optimizer=name)
    assert np.linalg.norm(twin.theta - net.theta) <= 1e-8 * np.linalg.norm(net.theta)


def test_adam_state_carries_over_chunks():
    """One call of 30 steps equals the kernel run in chunks of any size (the state is kept)."""
    net, X, Y = make_problem([3, 5, 2], "tanh", "identity", n=11)
    twin = net.copy()
    fg.train(net, X, Y, gradient="analytic", steps=30, eta=0.02, optimizer="adam")
    expected = reference(Adam(), twin, X, Y, 30, 0.02)
    np.testing.assert_allclose(net.theta, expected, rtol=1e-12, atol=1e-14)


def test_sgd_is_plain_descent_bit_for_bit():
    net, X, Y = make_problem([3, 5, 2], "tanh", "identity", n=11)
    twin = net.copy()
    fg.train(net, X, Y, gradient="analytic", steps=5, eta=0.1, optimizer="sgd")
    for _ in range(5):
        twin.theta -= 0.1 * fg.analytic_gradient(twin, X, Y)
    assert net.theta.tobytes() == twin.theta.tobytes()


@pytest.mark.parametrize("call, message", [
    (lambda: optimizer("rmsprop"), "optimizer: expected one of sgd, momentum, adam"),
    (lambda: optimizer("adam", beta1=1.0), r"beta1: expected a number in \[0, 1\)"),
    (lambda: optimizer("momentum", beta1=0.5), "beta1: not a parameter of momentum"),
    (lambda: optimizer(Adam(), beta2=0.5), "optimizer: give the parameters beta2 in the Optimizer"),
    (lambda: Adam(epsilon=-1.0), "epsilon: expected a number in"),
])
def test_bad_optimizers_are_refused_naming_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_coordinate_update_refuses_an_optimizer():
    net, X, Y = make_problem([1, 3, 1], "tanh", "identity", n=5)
    with pytest.raises(ValueError, match="optimizer: the coordinate update"):
        fg.train(net, X, Y, update="coordinate", steps=1, optimizer="adam")


def test_names_match_the_classes():
    assert optimizers.NAMES == tuple(optimizers.BY_NAME)
    assert all(optimizer(name).name == name for name in optimizers.NAMES)


UNEVEN = """
import numpy as np
import fastgrad as fg
from fastgrad import policy
policy.NUMERICAL_MIN_WORK = 0
policy.contended = lambda: False
rng = np.random.default_rng(2)
net = fg.MLP([3, 5, 4, 2], hidden=["tanh", "sigmoid"], output="sigmoid", seed=2)
X, Y = rng.normal(size=(13, 3)), rng.uniform(size=(13, 2))
serial = net.copy()
fg.train(serial, X, Y, backend="numba", steps=7, eta=0.1, optimizer="adam", batch_size=5, seed=1)
for threads in (3, 4):
    fg.set_num_threads(threads)
    twin = net.copy()
    fg.train(twin, X, Y, backend="numba-parallel", steps=7, eta=0.1, optimizer="adam", batch_size=5, seed=1)
    assert twin.theta.tobytes() == serial.theta.tobytes(), threads
print("equal")
"""


@pytest.mark.slow
def test_adam_parallel_equals_serial_bit_for_bit_with_uneven_shares():
    env = dict(os.environ, NUMBA_NUM_THREADS="4")
    proc = subprocess.run([sys.executable, "-c", UNEVEN], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[-1] == "equal"


@pytest.mark.parametrize("name", ["momentum", "adam"])
def test_cluster_training_with_an_optimizer_gives_the_serial_weights_bit_for_bit(name):
    distributed = pytest.importorskip("distributed")
    net, X, Y = make_problem([2, 4, 1], "tanh", n=20)
    serial, spread = net.copy(), net.copy()
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        fg.train(spread, X, Y, backend="dask", steps=6, eta=0.05, batch_size=7, seed=5, client=client, optimizer=name)
    fg.train(serial, X, Y, backend="numba", steps=6, eta=0.05, batch_size=7, seed=5, optimizer=name)
    assert spread.theta.tobytes() == serial.theta.tobytes()
