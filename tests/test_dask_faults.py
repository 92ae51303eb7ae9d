"""Faults on the Dask side end in one line, quickly: a scheduler address where something else
listens, more local workers than the machine can hold."""
import socket
import threading
import time

import pytest
from click.testing import CliRunner

from fastgrad import dask_backend
from fastgrad.cli import cli

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
