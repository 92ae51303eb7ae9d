"""The dask backend on a real LocalCluster of worker processes: equal to the serial backend
bit for bit, a killed worker costs nothing, Ctrl-C cancels, and every misuse says so."""
import os
import re
import signal
import sys
import time

import distributed
import numpy as np
import pytest
from click.testing import CliRunner

import fastgrad as fg
from fastgrad import dask_backend
from fastgrad.cli import cli
from fastgrad.io import load_weights
from fastgrad.rules import METHODS

from helpers import make_problem


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes; not Dask's default client (tests that want one say so)."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_every_method_and_strategy_equals_the_serial_backend_bit_for_bit(client, method):
    net, X, Y = make_problem([3, 5, 4, 2], "tanh", "softmax", n=30)
    for strategy in ("incremental", "full") if method != "complex-step" else (None,):
        serial = fg.numerical_gradient(net, X, Y, backend="numba", method=method, strategy=strategy, full_output=True)
        for blocks in (None, 3, 1000):
            spread = fg.numerical_gradient(net, X, Y, backend="dask", method=method, strategy=strategy,
                                           full_output=True, client=client, blocks=blocks)
            np.testing.assert_array_equal(spread.gradient, serial.gradient)
            np.testing.assert_array_equal(spread.steps, serial.steps)
            if serial.error_estimate is not None:
                np.testing.assert_array_equal(spread.error_estimate, serial.error_estimate)
            else:
                assert spread.error_estimate is None


@pytest.mark.slow
def test_entries_problem_out_and_progress(client):
    net, X, Y = make_problem([2, 6, 3, 1], "sigmoid", n=40)
    entries = np.array([40, 0, 7, 7, 33])
    np.testing.assert_array_equal(fg.numerical_gradient(net, X, Y, backend="dask", entries=entries, client=client),
                                  fg.numerical_gradient(net, X, Y, backend="numba", entries=entries))
    calls = []
    prob, out = fg.Problem(net, X, Y), np.empty(net.n_params)
    result = prob.numerical_gradient(out=out, backend="dask", client=client, blocks=4,
                                     progress=lambda done, blocks: calls.append((done, blocks)))
    assert result is out
    np.testing.assert_array_equal(out, prob.numerical_gradient(backend="numba"))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_the_current_client_is_the_default(client):
    net, X, Y = make_problem([2, 3, 1])
    with client.as_current():
        np.testing.assert_array_equal(fg.numerical_gradient(net, X, Y, backend="dask"),
                                      fg.numerical_gradient(net, X, Y, backend="numba"))


def test_without_a_client_the_message_names_the_fix():
    net, X, Y = make_problem([2, 3, 1])
    with pytest.raises(ValueError, match=r"client: backend 'dask' found no Dask client; start one "
                                         r"\(distributed.Client\(\) for a local cluster"):
        fg.numerical_gradient(net, X, Y, backend="dask")


def test_misuse_is_refused(client):
    net, X, Y = make_problem([2, 3, 1])
    with pytest.raises(ValueError, match=r"client: expected a distributed.Client, got str"):
        fg.numerical_gradient(net, X, Y, backend="dask", client="tcp://localhost:8786")
    with pytest.raises(ValueError, match=r"client: only for backend='dask', not 'numba'"):
        fg.numerical_gradient(net, X, Y, backend="numba", client=client)
    with pytest.raises(ValueError, match=r"blocks: only for backend='dask', not 'numba-parallel'"):
        fg.numerical_gradient(net, X, Y, blocks=4)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match=r"blocks: expected an integer >= 1, got"):
            fg.numerical_gradient(net, X, Y, backend="dask", client=client, blocks=bad)
    with pytest.raises(ValueError, match=r"backend: 'dask' takes numerical gradient steps only"):
        fg.train(net, X, Y, backend="dask", gradient="analytic", client=client)
    with pytest.raises(ValueError, match=r"client: only for backend='dask', not 'numba'"):
        fg.train(net, X, Y, backend="numba", client=client)


def test_without_distributed_installed_the_message_says_how(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    net, X, Y = make_problem([2, 3, 1])
    with pytest.raises(ValueError, match=r"backend: the dask backend needs Dask's distributed scheduler; install "
                                         r"it with pip install \"fastgrad\[distributed\]\""):
        fg.numerical_gradient(net, X, Y, backend="dask")
    result = CliRunner().invoke(cli, ["gradcheck", "--dask-workers", "2"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: --dask-workers: the dask backend needs Dask's distributed scheduler; install it with "
        'pip install "fastgrad[distributed]"']


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [None, 7])
def test_training_on_the_cluster_gives_the_serial_weights_bit_for_bit(client, batch_size):
    net, X, Y = make_problem([2, 4, 3, 1], "tanh", n=20)
    serial, spread = net.copy(), net.copy()
    a = fg.train(serial, X, Y, backend="numba", steps=12, eta=0.05, batch_size=batch_size, seed=5)
    b = fg.train(spread, X, Y, backend="dask", steps=12, eta=0.05, batch_size=batch_size, seed=5, client=client)
    np.testing.assert_array_equal(spread.theta, serial.theta)
    assert b.losses == a.losses and b.steps_done == a.steps_done == 12


@pytest.mark.slow
def test_a_diverging_run_on_the_cluster_stops_where_the_serial_one_does(client):
    net, X, Y = make_problem([2, 4, 1], "tanh", n=20)
    runs = []
    for backend, extra in (("numba", {}), ("dask", {"client": client})):
        copy = net.copy()
        with pytest.raises(fg.DivergenceError) as caught:
            fg.train(copy, X, Y, backend=backend, steps=50, eta=1e7, **extra)
        runs.append((copy.theta, caught.value.history))
    (theta_a, history_a), (theta_b, history_b) = runs
    np.testing.assert_array_equal(theta_b, theta_a)
    assert history_b.steps_done == history_a.steps_done and history_b.losses == history_a.losses


@pytest.mark.slow
def test_gradcheck_on_the_cluster(client):
    net, X, Y = make_problem([2, 5, 3, 2], "tanh", n=15)
    local = fg.gradcheck(net, X, Y, backend="numba")
    spread = fg.gradcheck(net, X, Y, backend="dask", client=client)
    assert spread.passed and spread.backend == "dask"
    np.testing.assert_array_equal(spread.relative_errors, local.relative_errors)


def _worker_pids(client):
    return client.run(os.getpid)


@pytest.mark.slow
def test_a_worker_killed_mid_gradient_costs_a_retry_not_the_gradient():
    net, X, Y = make_problem([6, 24, 24, 2], "tanh", n=400)
    serial = fg.numerical_gradient(net, X, Y, backend="numba")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        before = _worker_pids(client)
        killed = []

        def kill_one(done, blocks):
            if not killed:  # after the first block: the others are queued or running
                pid = next(iter(before.values()))
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        spread = fg.numerical_gradient(net, X, Y, backend="dask", client=client, blocks=12, progress=kill_one)
        np.testing.assert_array_equal(spread, serial)
        client.wait_for_workers(2, timeout=60)
        assert killed and killed[0] not in _worker_pids(client).values()  # the nanny started a new process


@pytest.mark.slow
def test_a_worker_killed_during_training_costs_a_retry_not_the_weights():
    net, X, Y = make_problem([3, 16, 2], "tanh", n=200)
    serial = net.copy()
    fg.train(serial, X, Y, backend="numba", steps=8, eta=0.05)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        victim, killed = next(iter(_worker_pids(client).values())), []

        def kill_once(step, loss):
            if step >= 1 and not killed:
                os.kill(victim, signal.SIGKILL)
                killed.append(step)
        spread = net.copy()
        history = fg.train(spread, X, Y, backend="dask", client=client, steps=8, eta=0.05, progress=kill_once)
    assert killed and history.steps_done == 8 and history.stopped == "completed"
    np.testing.assert_array_equal(spread.theta, serial.theta)


@pytest.mark.slow
def test_a_cluster_that_loses_blocks_or_data_ends_the_gradient_in_one_line():
    """With no failures allowed a killed worker ends the gradient in one line; where both die, the
    retries may bring the gradient home (then with the serial bits) or end it in one line."""
    import dask
    net, X, Y = make_problem([6, 24, 24, 2], "tanh", n=400)
    serial = fg.numerical_gradient(net, X, Y, backend="numba")
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=":0") as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        for victims, message in ((1, r"a block's workers died too often \(.+\)"),
                                 (2, r"(a block's workers died too often|the cluster lost blocks or data of the "
                                     r"work) \(.+\)")):
            client.wait_for_workers(2, timeout=60)
            pids = list(_worker_pids(client).values())[:victims]

            def kill(done, blocks):
                while pids:  # each victim is running a block now
                    os.kill(pids.pop(), signal.SIGKILL)

            try:
                spread = fg.numerical_gradient(net, X, Y, backend="dask", client=client, blocks=12, progress=kill)
            except dask_backend.ClusterError as exc:
                assert re.match(rf"^dask: {message}; the work was abandoned( after 3 tries)?$", str(exc)), str(exc)
            else:
                assert victims == 2 and np.array_equal(spread, serial)


@pytest.mark.slow
def test_ctrl_c_cancels_the_blocks(client):
    net, X, Y = make_problem([6, 24, 24, 2], "tanh", n=400)

    def interrupt(done, blocks):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fg.numerical_gradient(net, X, Y, backend="dask", client=client, blocks=12, progress=interrupt)

    def block_tasks(dask_scheduler):
        return [key for key in dask_scheduler.tasks if str(key).startswith("block_gradient")]
    deadline = time.monotonic() + 10
    while client.run_on_scheduler(block_tasks) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.run_on_scheduler(block_tasks) == []


@pytest.mark.slow
def test_any_function_on_the_cluster_equals_its_serial_loop(client):
    from numba import njit

    def field(x, a):
        return np.array([np.sum(x ** 2) * a, np.sin(x[0]) * x[-1]])
    compiled = njit(field)
    x0 = np.linspace(-1.0, 2.0, 11)
    for fun, serial in ((field, "python"), (compiled, "numba")):
        for method in ("2-point", "3-point", "cs"):
            expected = fg.approx_derivative(fun, x0, method=method, args=(3.0,), bounds=(-1.0, 2.0) if method != "cs"
                                            else (-np.inf, np.inf), backend=serial)
            for blocks in (None, 4, 50):
                got = fg.approx_derivative(fun, x0, method=method, args=(3.0,), bounds=(-1.0, 2.0) if method != "cs"
                                           else (-np.inf, np.inf), backend="dask", client=client, blocks=blocks)
                np.testing.assert_array_equal(got, expected)
        expected, info = fg.approx_derivative(fun, x0, method="richardson", args=(3.0,), backend=serial,
                                              full_output=True)
        got, got_info = fg.approx_derivative(fun, x0, method="richardson", args=(3.0,), backend="dask",
                                             client=client, blocks=3, full_output=True)
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(got_info["error_estimate"], info["error_estimate"])
    with pytest.raises(ValueError, match=r"client: only for backend='dask', not 'python'"):
        fg.approx_derivative(field, x0, args=(1.0,), client=client)
    with pytest.raises(ValueError, match=r"backend: hessian runs on python, numba or numba-parallel, not 'dask'"):
        fg.hessian(compiled, x0, args=(1.0,), backend="dask")


def test_cost_model_and_blocks():
    # W1 (3 x 4 with bias): each entry changes one unit, then 4 products into W2's outputs, then W3 in full
    costs = dask_backend.entry_costs([2, 4, 4, 1], 10, "incremental")
    assert costs.size == 12 + 20 + 5
    np.testing.assert_array_equal(np.unique(costs[:12]), [10 * (1 + 4 + 5)])
    np.testing.assert_array_equal(np.unique(costs[12:32]), [10 * (1 + 1)])
    np.testing.assert_array_equal(np.unique(costs[32:]), [10 * 1])
    np.testing.assert_array_equal(dask_backend.entry_costs([2, 4, 4, 1], 10, "full"), np.full(37, 10.0 * 37))
    bounds = dask_backend.block_bounds(costs, n_threads=2, blocks=3)
    assert bounds[0] == 0 and bounds[-1] == costs.size and np.all(np.diff(bounds) > 0) and bounds.size == 4
    shares = [costs[a:b].sum() for a, b in zip(bounds[:-1], bounds[1:])]
    assert max(shares) - min(shares) <= costs.max()  # equal up to one entry
    many = dask_backend.block_bounds(costs, 2, blocks=100)  # more blocks than entries: no empty block
    assert many[0] == 0 and many[-1] == costs.size and np.all(np.diff(many) >= 1)
    np.testing.assert_array_equal(many[:13], np.arange(13))  # each costly W1 entry a block of its own
    # unasked: tiny work is one block; big work BLOCKS_PER_THREAD per thread
    assert dask_backend.block_bounds(costs, 8).size == 2
    huge = np.full(1000, 1e9)
    assert dask_backend.block_bounds(huge, 8).size == dask_backend.BLOCKS_PER_THREAD * 8 + 1


@pytest.mark.slow
def test_cli_gradcheck_and_train_on_a_local_cluster(tmp_path):
    result = CliRunner().invoke(cli, ["gradcheck", "--dask-workers", "2", "--sizes", "1,4,3,1"])
    assert result.exit_code == 0, result.output
    assert "gradcheck PASSED" in result.output and "backend=dask" in result.output
    local, spread = tmp_path / "local.npz", tmp_path / "spread.npz"
    for extra, path in ((["--backend", "numba"], local), (["--dask-workers", "2"], spread)):
        result = CliRunner().invoke(cli, ["train", "--steps", "40", "--quiet", "--sizes", "1,4,3,1", "--save",
                                          str(path), *extra])
        assert result.exit_code == 0, result.output
    assert "gradient numerical (dask, 2 worker threads, a local cluster)" in result.output
    np.testing.assert_array_equal(load_weights(spread)[0].theta, load_weights(local)[0].theta)


def test_cli_refuses_what_the_cluster_ignores():
    for args, message in (
            (["gradcheck", "--dask-workers", "2", "--scheduler", "tcp://h:1"],
             "Error: --scheduler, --dask-workers: give one of them (a running cluster, or a local one)"),
            (["gradcheck", "--dask-workers", "2", "--backend", "numba"],
             "Error: --backend: the numerical gradient runs on the Dask workers with --dask-workers; "
             "leave --backend out"),
            (["train", "--scheduler", "tcp://h:1", "--threads", "1"],
             "Error: --threads: the numerical gradient runs on the Dask workers with --scheduler; leave --threads out"),
            (["train", "--dask-workers", "2", "--gradient", "analytic"],
             "Error: --dask-workers: the cluster takes numerical gradient steps only (--gradient numerical, "
             "--update gradient)"),
            (["bench", "--backends", "numba,dask"],
             "Error: --backends: dask needs a cluster: --dask-workers N (a local one) or --scheduler ADDRESS"),
            (["bench", "--backends", "numba", "--dask-workers", "2"],
             "Error: --dask-workers: --backends leaves out dask, the only backend that uses the cluster")):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.strip().splitlines() == [message]


def test_cli_an_unreachable_scheduler_fails_within_the_timeout(monkeypatch):
    monkeypatch.setattr(dask_backend, "CONNECT_SECONDS", 1.0)
    start = time.monotonic()
    result = CliRunner().invoke(cli, ["gradcheck", "--scheduler", "tcp://127.0.0.1:1"])
    assert time.monotonic() - start < 20
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: --scheduler: cannot reach a Dask scheduler at tcp://127.0.0.1:1 within 1 s (")


@pytest.mark.slow
def test_cli_bench_times_the_cluster_beside_the_local_backends(tmp_path):
    prefix = str(tmp_path / "b")
    result = CliRunner().invoke(cli, ["bench", "--quick", "--sizes", "4-16-2:100", "--backends", "numba,dask",
                                      "--dask-workers", "2", "--quiet", "--out", prefix])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("| 4-16-2 n=100 |")]
    assert [row.split("|")[2:4] for row in rows] == [[" numerical/numba ", " 1 "], [" numerical/dask ", " 2 "]]


@pytest.mark.slow
def test_cli_derivative_on_a_local_cluster(tmp_path):
    import json
    module = tmp_path / "user_model.py"
    module.write_text("import numpy as np\n\n\ndef field(x):\n    return np.array([np.sum(x ** 3), x[0] * x[-1]])\n")
    results = []
    for extra in ([], ["--dask-workers", "2"]):
        result = CliRunner().invoke(cli, ["derivative", f"{module}:field", "--x0", "1,2,3,4,5", "--json", "-", *extra])
        assert result.exit_code == 0, result.output
        results.append(json.loads(result.stdout))
    assert results[1]["settings"]["backend"] == "dask" and results[0]["settings"]["backend"] == "python"
    assert results[1]["derivative"] == results[0]["derivative"]
