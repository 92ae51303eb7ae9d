"""The "dask" backend: a numerical gradient's entries (or, for ``approx_derivative``, a
function's coordinates) dealt out over a Dask cluster.

The net, X and Y are scattered to every worker once per gradient; the entries are cut into
contiguous blocks of about equal estimated cost; each block is one task, which runs the
serial compiled kernel ("numba") on its entries; the blocks come back in entry order.
Every entry's quotient depends on theta, X, Y, its step and the method only, never on the
other entries of its block, so the gradient equals the serial backend's bit for bit.

Cost model, in multiply-adds per entry (``entry_costs``), with W_l mapping n_{l-1} units to
n_l (l = 1..L, as the textbook numbers W1, W2): re-evaluating incrementally, a perturbation
of an entry of W_l changes one unit of layer l, then one input of W_{l+1} (n_{l+1} products
per sample) and every layer above that in full:

    cost(W_l) = n (1 + n_{l+1} + sum_{k=l+2..L} (n_{k-1} + 1) n_k)        (n_{L+1} = 0)

A full re-evaluation costs the whole forward pass, n sum_k (n_{k-1} + 1) n_k, per entry
(complex arithmetic: COMPLEX_FACTOR times that). Multiplied by the passes the method takes
(``fastgrad.rules.Rule.passes``) and SECONDS_PER_MULADD (measured on the serial kernel), it sizes the blocks:
at least MIN_BLOCK_SECONDS of work each, so that a task's own overhead (a few ms) stays a
small share, and at most BLOCKS_PER_THREAD per worker thread, enough to even out workers
of different speeds.
"""
from __future__ import annotations

import math
import os
import socket
import time
from concurrent.futures import CancelledError

import numpy as np

from .validation import available_memory, readable_bytes

INSTALL = 'pip install "fastgrad[distributed]"'
SECONDS_PER_MULADD = 2.7e-9  # the serial incremental kernel at [16,64,64,8] n=2000, 2-core machine
MIN_BLOCK_SECONDS = 0.05
BLOCKS_PER_THREAD = 4
COMPLEX_FACTOR = 4.0
CONNECT_SECONDS = 10.0  # how long a --scheduler address may take to answer
ATTEMPTS = 3  # tries of a gradient's blocks on a cluster that loses workers or data
WAIT_FOR_WORKERS_SECONDS = 60.0  # how long a retry waits for a worker to be there
POLL_SECONDS = 1.0
STALL_SECONDS = 30.0  # no block finished this long, and the workers changed: the blocks are lost
WORKER_BYTES = 400e6  # a local worker process with numpy, numba and a loaded kernel


class ClusterError(RuntimeError):
    """The cluster failed the work (its scheduler unreachable, a block's workers dying
    repeatedly, blocks or data lost); the message says what happened in one line."""


def distributed_module(asked_by="backend"):
    """``distributed``, or a ValueError (about the option ``asked_by``) saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise ValueError(f"{asked_by}: the dask backend needs Dask's distributed scheduler; install it with "
                         f"{INSTALL}") from None
    return distributed


def find_client(client=None):
    """``client`` checked, or Dask's current client; a ValueError naming the fix when there is none."""
    distributed = distributed_module()
    if client is None:
        try:
            return distributed.default_client()
        except ValueError:
            raise ValueError("client: backend 'dask' found no Dask client; start one "
                             "(distributed.Client() for a local cluster, Client('tcp://host:8786') for a running "
                             "one) or pass client=") from None
    if not isinstance(client, distributed.Client):
        raise ValueError(f"client: expected a distributed.Client, got {type(client).__name__}")
    return client


def connect(address):
    """A Client of the scheduler at ``address``, or a ClusterError within about 2 CONNECT_SECONDS."""
    distributed = distributed_module()
    try:
        _check_speaks_first(address)
        return distributed.Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ClusterError(f"scheduler: cannot reach a Dask scheduler at {address} within "
                           f"{CONNECT_SECONDS:g} s ({reason})") from None


def _check_speaks_first(address):
    """A TimeoutError unless whatever listens at a tcp ``address`` sends something within
    CONNECT_SECONDS of the connection, as a Dask scheduler does (its handshake comes first): a
    listener that never answers would otherwise hold distributed's own handshake for minutes.
    Other schemes (tls://, ...) are left to distributed."""
    scheme, _, location = address.rpartition("://")
    host, _, port = location.rpartition(":")
    if scheme not in ("", "tcp") or not port.isdigit():
        return
    with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=CONNECT_SECONDS) as sock:
        try:
            if sock.recv(1):
                return
        except socket.timeout:
            pass
    raise TimeoutError("it accepts connections but does not answer as a Dask scheduler does")


def local_cluster(n_workers):
    """A Client of a new LocalCluster of ``n_workers`` single-threaded worker processes (close
    both with ``close``); more workers than this machine has CPUs (or memory for, at
    WORKER_BYTES each) are refused: they would only share the cores, each a process."""
    distributed = distributed_module()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    most = max(1, min(cpus, int(available_memory() // WORKER_BYTES)))
    if n_workers > most:
        raise ValueError(f"dask_workers: {n_workers} local workers on a machine with {cpus} CPUs and "
                         f"{readable_bytes(available_memory())} of memory free; at most {most} (one per CPU, "
                         f"{readable_bytes(WORKER_BYTES)} each)")
    cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")  # any free port: never "8787 is in use"
    return distributed.Client(cluster)


def close(client):
    """Close ``client`` and, when it started one, its LocalCluster."""
    cluster = client.cluster
    client.close()
    if cluster is not None:
        cluster.close()


def entry_costs(sizes, n, strategy):
    """Estimated multiply-adds of one difference of each entry, in theta's order (module docstring)."""
    layers = [(n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    if strategy == "full":
        return np.full(sum(layers), float(n * sum(layers)))
    costs = []
    for l, count in enumerate(layers):
        above = (sizes[l + 2] if l + 1 < len(layers) else 0) + sum(layers[l + 2:])
        costs.append(np.full(count, float(n * (1 + above))))
    return np.concatenate(costs)


def block_bounds(costs, n_threads, blocks=None):
    """Boundaries 0 = b_0 < b_1 < ... < b_k = costs.size of k contiguous blocks of about equal
    total cost: ``blocks`` of them, or as many as the module docstring's rule gives."""
    m = costs.size
    if blocks is None:
        seconds = float(costs.sum()) * SECONDS_PER_MULADD
        blocks = max(1, min(BLOCKS_PER_THREAD * n_threads, math.ceil(seconds / MIN_BLOCK_SECONDS)))
    blocks = min(blocks, m)
    cumulative = np.cumsum(costs)
    inner = np.searchsorted(cumulative, cumulative[-1] * np.arange(1, blocks) / blocks, side="right")
    return np.unique(np.concatenate(([0], np.clip(inner, 1, m - 1), [m])))


def check_blocks(blocks):
    """``blocks``: None or an integer >= 1."""
    if blocks is not None and (isinstance(blocks, bool) or not isinstance(blocks, (int, np.integer)) or blocks < 1):
        raise ValueError(f"blocks: expected an integer >= 1, got {blocks!r}")
    return blocks


def worker_threads(client):
    """The threads of the cluster's workers; a ClusterError when it has none."""
    n_threads = sum(client.nthreads().values())
    if n_threads == 0:
        raise ClusterError("dask: the cluster has no workers")
    return n_threads


def run_blocks(client, task, shared, blocks, progress=None):
    """[task(*shared, *block) for block in blocks], each block one task on the cluster, in
    order; ``shared`` is scattered to every worker once. ``progress(done, blocks)`` as blocks
    finish; Ctrl-C cancels the blocks still queued or running. A cluster that loses workers,
    blocks or their data (a killed worker, say) gets ATTEMPTS tries in all, each scattering
    afresh once a worker is there; a block whose task keeps killing its workers, or a cluster
    that stays broken, is a ClusterError. Every block's result depends on its inputs only, so a
    retried block gives the same bits."""
    distributed = distributed_module()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _attempt(distributed, client, task, shared, blocks, progress)
        except distributed.KilledWorker as exc:
            raise ClusterError(f"dask: a block's workers died too often ({exc}); the work was abandoned") from None
        except _LOST as exc:
            if attempt == ATTEMPTS:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ClusterError(f"dask: the cluster lost blocks or data of the work ({reason}); "
                                   f"the work was abandoned after {ATTEMPTS} tries") from None
            try:
                client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_SECONDS)
            except (TimeoutError, OSError):
                raise ClusterError(f"dask: the cluster has had no worker for {WAIT_FOR_WORKERS_SECONDS:g} s; "
                                   "the work was abandoned") from None


class _Stalled(TimeoutError):
    """No block finished for STALL_SECONDS while some were lost or the workers changed."""


_LOST = (CancelledError, OSError, TimeoutError)  # OSError: distributed's CommClosedError


def _attempt(distributed, client, task, shared, blocks, progress):
    """One try of ``run_blocks``: scatter, submit, wait for every block, gather."""
    # fresh keys each time (hash=False, pure=False): a key reused from an earlier call can be
    # released by that call's futures while this one still needs it ("lost dependencies")
    scattered = client.scatter(list(shared), broadcast=True, hash=False)
    futures = [client.submit(task, *scattered, *block, pure=False) for block in blocks]
    pending, done, last_progress = set(futures), 0, time.monotonic()
    workers = set(client.nthreads())
    try:
        while pending:
            try:
                with client.as_current():  # distributed.wait asks for the current client
                    finished, pending = distributed.wait(pending, timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
            except TimeoutError:  # none finished within POLL_SECONDS
                finished = set()
            for future in finished:
                if future.status in ("cancelled", "lost"):
                    raise CancelledError(f"block {futures.index(future)} was {future.status}")
                if future.status == "error":
                    future.result()  # raises the task's error
            if finished:
                done += len(finished)
                last_progress = time.monotonic()
                if progress is not None:
                    progress(done, len(futures))
            elif time.monotonic() - last_progress > STALL_SECONDS and set(client.nthreads()) != workers:
                raise _Stalled(f"no block finished for {STALL_SECONDS:g} s after the workers changed")
        return client.gather(futures)
    except BaseException:
        client.cancel(futures)
        raise
