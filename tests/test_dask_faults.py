"""Faults on the Dask side end in one line, quickly: a scheduler address where something else
listens, more local workers than the machine can hold."""
import socket
import threading
import time

import numpy as np
import pytest
from click.testing import CliRunner

from fastgrad import dask_backend
from fastgrad.cli import cli
from fastgrad.train import ClusterFailure

pytest.importorskip("distributed")


@pytest.fixture
def silent_listener():
    """A TCP listener that accepts connections and never says a word (not a Dask scheduler)."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted, stop = [], threading.Event()

    def serve():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                pass
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_a_listener_that_never_answers_is_no_scheduler(monkeypatch, silent_listener):
    monkeypatch.setattr(dask_backend, "CONNECT_SECONDS", 1.0)
    start = time.monotonic()
    with pytest.raises(dask_backend.ClusterError, match="does not answer as a Dask scheduler does"):
        dask_backend.connect(silent_listener)
    assert time.monotonic() - start < 10


def test_the_cli_says_so_in_one_line(monkeypatch, silent_listener):
    monkeypatch.setattr(dask_backend, "CONNECT_SECONDS", 1.0)
    result = CliRunner().invoke(cli, ["gradcheck", "--scheduler", silent_listener])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("Error: --scheduler: cannot reach")


def test_more_local_workers_than_cpus_are_refused_before_any_starts():
    with pytest.raises(ValueError, match=r"dask_workers: 64 local workers on a machine with \d+ CPUs"):
        dask_backend.local_cluster(64)
    result = CliRunner().invoke(cli, ["gradcheck", "--dask-workers", "64"])
    assert result.exit_code == 2 and "64 local workers" in result.output and result.output.count("\n") == 1


@pytest.fixture(scope="module")
def in_process_client():
    import distributed
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as c, \
            distributed.Client(c, set_as_default=False) as client:
        yield client


def _fail_from_call(monkeypatch, n):
    """Make the cluster fail every gradient from the n-th on (as after its retries)."""
    calls = []
    real = dask_backend.run_blocks

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) >= n:
            raise dask_backend.ClusterError("dask: the cluster lost blocks or data of the work (test); "
                                            "the work was abandoned after 3 tries")
        return real(*args, **kwargs)
    monkeypatch.setattr(dask_backend, "run_blocks", failing)


def test_a_cluster_that_fails_for_good_leaves_the_weights_of_the_steps_done(monkeypatch, in_process_client):
    import fastgrad as fg
    from helpers import make_problem
    net, X, Y = make_problem([2, 4, 1], "tanh", n=20)
    serial = net.copy()
    fg.train(serial, X, Y, backend="numba", steps=4, eta=0.05)
    _fail_from_call(monkeypatch, 6)  # the warm-up runs no blocks; gradients 1-5 succeed
    spread = net.copy()
    with pytest.raises(ClusterFailure) as caught:
        fg.train(spread, X, Y, backend="dask", client=in_process_client, steps=50, eta=0.05)
    history = caught.value.history
    assert history.stopped == "cluster failed" and history.steps_done == 5
    assert "the net keeps the weights after 5 steps" in str(caught.value)
    again = net.copy()
    fg.train(again, X, Y, backend="numba", steps=5, eta=0.05)
    np.testing.assert_array_equal(spread.theta, again.theta)


def test_train_saves_the_last_good_weights_when_the_cluster_fails(monkeypatch, tmp_path, in_process_client):
    from fastgrad.io import load_weights
    _fail_from_call(monkeypatch, 4)
    monkeypatch.setattr(dask_backend, "connect", lambda address: in_process_client)
    monkeypatch.setattr(dask_backend, "close", lambda client: None)
    saved = tmp_path / "w.npz"
    result = CliRunner().invoke(cli, ["train", "--scheduler", "tcp://127.0.0.1:1", "--steps", "30", "--quiet",
                                      "--save", str(saved)])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "the net keeps the weights after 3 steps" in errors[0]
    net, meta = load_weights(str(saved))
    assert meta["steps_done"] == 3 and meta["status"] == "cluster failed"
