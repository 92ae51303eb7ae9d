"""Where the work runs: backends, threads and blocked products, decided here and nowhere else.

Backends (the names every module and the CLI use):

    "numba-parallel"  compiled; entries (or a layer's rows) dealt out over numba's threads where
                      the work pays for them, else the serial kernel: the same bits either way
    "numba"           compiled, one thread
    "numpy"           numpy passes and a Python loop over entries (the textbook's way)
    "python"          plain Python loops (the honest baseline)
    "dask"            blocks of entries or coordinates on a Dask cluster, each by the serial
                      kernel: the same bits as "numba"

Threads pay off when a parallel region has enough work to hide its start and its wait for the
slowest thread. The work, and the threshold it must reach:

    numerical gradient   n * entries (incremental), n * entries * P (full)    NUMERICAL_MIN_WORK
    backprop             n * P                                               BACKPROP_MIN_WORK
    training             a numerical step's work, n the batch size; analytic steps and the
                         coordinate sweep run serially

The benchmarks behind the thresholds are bench/backprop_kernels.py and bench/test_bench_gradients.py.

Busy cores. A parallel region waits for its slowest thread; when another process holds a core,
one of our threads shares it and is descheduled for whole time slices, so every region waits
milliseconds, whatever its work. ``contended()`` looks (at most every LOOK_SECONDS) at how busy
our CPUs were since the last look, less our own process's CPU time: when the cores the others
leave free are fewer than our threads, "numba-parallel" runs its serial kernel (the same bits)
until they free up again. bench/contention.py measures the default against serial, busy and quiet.
Blocked products (``kernels.products.blocked_pays_off``) multiply in register blocks on large
problems; the same bits.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

from . import runtime
from .kernels.products import blocked_pays_off

NUMBA_PARALLEL, NUMBA, NUMPY, PYTHON, DASK = "numba-parallel", "numba", "numpy", "python", "dask"
DEFAULT = NUMBA_PARALLEL
COMPILED = (NUMBA, NUMBA_PARALLEL, DASK)   # the backends that run the compiled kernels
NUMERICAL_BACKENDS = (PYTHON, NUMPY, NUMBA, NUMBA_PARALLEL, DASK)
ANALYTIC_BACKENDS = (NUMPY, NUMBA)
LOSS_BACKENDS = (NUMBA, NUMPY)
MACHINE_TRAINING_BACKENDS = (NUMBA_PARALLEL, NUMBA)    # training on this machine
TRAINING_BACKENDS = MACHINE_TRAINING_BACKENDS + (DASK,)
MACHINE_DERIVATIVE_BACKENDS = (PYTHON, NUMBA, NUMBA_PARALLEL)  # approx_derivative and hessian on this machine
DERIVATIVE_BACKENDS = MACHINE_DERIVATIVE_BACKENDS + (DASK,)

NUMERICAL_MIN_WORK = 20_000     # sample evaluations
BACKPROP_MIN_WORK = 2_000_000   # n * P
LOOK_SECONDS = 0.2              # the shortest interval over which contended() judges the CPUs
SPARE_CORE = 0.5                # a core counts as free when others leave it at least half idle


@dataclass(frozen=True)
class Engine:
    """What runs a job: the backend that runs it (the one asked for, or "numba" where threads
    would not pay), its threads, and why it runs serially where parallel was asked for."""
    backend: str
    threads: int = 1
    why_serial: str = ""

    @property
    def parallel(self) -> bool:
        return self.backend == NUMBA_PARALLEL

    def describe(self) -> str:
        """One line for a header: ``numba-parallel, 2 threads, omp layer`` or ``numba, serial: ...``."""
        if self.parallel:
            return f"{NUMBA_PARALLEL}, {self.threads} threads, {runtime.threading_layer()} layer"
        return self.backend + (f", serial: {self.why_serial}" if self.why_serial else "")


class _CpuWatch:
    """How busy our CPUs are with other processes' work, from /proc/stat (Linux; elsewhere
    never busy): busy CPU-seconds of the CPUs we may run on, less our own process's."""

    def __init__(self, stat_path="/proc/stat"):
        self.stat_path = stat_path
        self.cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        self.tick = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01
        self.last = self.sample()
        self.busy = False

    def busy_seconds(self):
        """CPU-seconds our CPUs have spent busy since boot (None where /proc/stat is missing)."""
        try:
            with open(self.stat_path, "rb") as stat:
                lines = stat.read().split(b"\n")
        except OSError:
            return None
        wanted, ticks = set(self.cpus), 0
        for line in lines[1:]:
            if not line.startswith(b"cpu"):
                break
            fields = line.split()
            if int(fields[0][3:]) in wanted:
                user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
                ticks += user + nice + system + irq + softirq + steal
        return ticks * self.tick

    def sample(self):
        return time.monotonic(), self.busy_seconds(), time.process_time()

    def look(self, threads):
        """Whether, since the last look, the cores other processes left free were fewer than
        ``threads``; remembered as ``busy`` until the next look."""
        current = self.sample()
        now = current[0]
        (then, busy_then, own_then), (_, busy_now, own_now) = self.last, current
        self.last = current
        self.busy = False
        if threads > 1 and busy_now is not None and busy_then is not None:
            others = ((busy_now - busy_then) - (own_now - own_then)) / (now - then)  # cores' worth
            self.busy = len(self.cpus) - others < threads - SPARE_CORE
        return self.busy


_WATCH = _CpuWatch()


def contended() -> bool:
    """Whether other processes hold cores that numba's threads would need now (module docstring)."""
    if time.monotonic() - _WATCH.last[0] < LOOK_SECONDS:
        return _WATCH.busy
    return _WATCH.look(runtime.get_num_threads())


def shares(backend: str) -> int:
    """Interleaved shares a job deals its entries out in: one per thread on "numba-parallel"."""
    return runtime.get_num_threads() if backend == NUMBA_PARALLEL else 1


def numerical_work(n_samples: int, n_entries: int, n_params: int, strategy: str) -> int:
    """Sample evaluations of a numerical gradient: n * entries, times P when re-evaluating in full."""
    return n_samples * n_entries * (1 if strategy == "incremental" else n_params)


def numerical_backend(backend: str, n_samples: int, n_entries: int, n_params: int, strategy: str) -> str:
    """The backend that runs a numerical gradient asked of ``backend``: "numba-parallel" becomes
    "numba" below NUMERICAL_MIN_WORK (module docstring). Where it stays parallel, the caller
    asks ``running(backend)`` at each call."""
    if backend == NUMBA_PARALLEL and numerical_work(n_samples, n_entries, n_params, strategy) < NUMERICAL_MIN_WORK:
        return NUMBA
    return backend


def running(backend: str) -> str:
    """The backend a call of ``backend`` runs on now: "numba-parallel" runs serially while the
    cores are contended (``contended``), with the same bits."""
    return NUMBA if backend == NUMBA_PARALLEL and contended() else backend


def backprop_parallel(n_samples: int, n_params: int) -> bool:
    """Whether the compiled backprop deals each layer's gradient and deltas out over threads
    (it does so only while there is more than one thread; either kernel gives the same bits)."""
    return n_samples * n_params >= BACKPROP_MIN_WORK


# Whether the forward pass and backprop multiply in register blocks, (n, P, sizes) -> bool (the
# same bits either way): the kernels' own rule, named here (no wrapper: a Problem asks per call).
blocked_products = blocked_pays_off


def training_engine(n_params: int, batch: int, gradient: str, backend: str, update: str,
                    strategy: str = "incremental") -> Engine:
    """The engine of a training run on one machine: numerical gradient steps on "numba-parallel"
    with enough work per step run over threads; everything else serially."""
    if update == "coordinate":
        return Engine(NUMBA, why_serial="the sweep moves one entry at a time")
    if gradient == "analytic":
        return Engine(NUMBA)
    if backend != NUMBA_PARALLEL:
        return Engine(backend)
    if numerical_backend(backend, batch, n_params, n_params, strategy) == NUMBA:
        return Engine(NUMBA, why_serial="too little work for threads")
    return Engine(NUMBA_PARALLEL, runtime.get_num_threads())
