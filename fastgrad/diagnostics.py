"""What the compiled kernels cost: warm-up with a time per kernel, the disk cache, runtime facts.

This module sits above the API and the kernels (runtime.py sits below them): it builds
every job of one configuration (``kernels/jobs.py``) and calls each on a tiny problem, in this
process or shared out among several.
"""
from __future__ import annotations

import glob
import multiprocessing
import os
import platform
import signal
import threading
import time
import warnings

import numba
import numpy as np

from . import runtime
from .kernels import checks, jobs
from .kernels.incremental import workspace_size
from .kernels.layers import cache_size
from .kernels.specialise import ENTRIES, built_kernels, callees
from .model import MLP
from .validation import available_memory, readable_bytes

DEFAULT_CONFIGURATION = ("tanh", "identity", "mse")  # the textbook's: fastgrad train with no options


# the ways the Python layer builds each job (kernels/jobs.py's JOBS): (label, job, options)
VARIANTS = ([(f"loss{blocked}", "loss", (bool(blocked),)) for blocked in ("", " blocked")]  # blocked: large problems
            + [(f"backprop{blocked}{parallel}", "backprop", (bool(parallel), bool(blocked)))
               for blocked in ("", " blocked") for parallel in ("", " parallel")]
            + [(f"{strategy} differences{parallel}", "differences", (strategy, bool(parallel)))
               for strategy in jobs.DIFFERENCES for parallel in ("", " parallel")]
            + [(f"central gradient{parallel}", "central", ("incremental", bool(parallel)))
               for parallel in ("", " parallel")]
            + [(f"complex step{parallel}", "complex_step", (bool(parallel),)) for parallel in ("", " parallel")]
            + [(f"train analytic{blocked}", "training", ("analytic", None, False, bool(blocked)))
               for blocked in ("", " blocked")]
            + [(f"train {strategy}{parallel}", "training", ("numerical", strategy, bool(parallel)))
               for strategy in jobs.DIFFERENCES for parallel in ("", " parallel")]
            + [("train coordinate", "coordinate", ())])


def _samples(net, XT, YT):
    """A value for every argument name of the jobs (``jobs.JOBS``) on a tiny problem, of the types the Python
    layer passes."""
    P = net.n_params
    return {"theta": net.theta.copy(), "layout": net.layout, "XT": XT, "YT": YT,
            "cache": np.empty(cache_size(net.layout, XT.shape[1])), "grad": np.empty(P),
            "steps": np.full(P, 1e-5), "m": 1.0, "h_table": 1e-5, "h": 1e-5, "base": 1e-5,
            "entries": np.arange(P), "n_shares": 1, "work": np.empty(0), "out": np.empty(P),
            "eta": 1e-3, "batches": np.zeros((0, 0), dtype=np.int64), "limit": np.inf,
            "last_good": net.theta.copy(), "losses": np.empty(1), "settings": np.empty(0), "state": np.empty(0)}


def job_kernels(hidden="tanh", output="identity", loss="mse"):
    """[(label, kernel, job name)] for every job of one configuration, built every way in ``VARIANTS``: the loss
    and backprop (each plain and blocked), both difference strategies, the central gradient and the complex step
    (each serial and parallel), every training kernel and the coordinate sweeps."""
    f = jobs.formulas([hidden], output, loss)
    return [(label, jobs.JOBS[name].build(f, *options), name) for label, name, options in VARIANTS]


def call_kernels(net, X, Y):
    """[(label, kernel, arguments)] for the small kernels that the Python layer calls around the
    jobs, with its argument types: a Problem's finiteness check and sizes. They do not depend
    on the configuration."""
    return [("input check", checks.all_finite, (X, Y, net.theta)),
            ("forward cache size", cache_size, (net.layout, X.shape[0])),
            ("workspace size", workspace_size, (net.layout, X.shape[0]))]


def warm_up(configuration=DEFAULT_CONFIGURATION, processes=1):
    """Compile (or load from the disk cache) every job of a configuration (hidden, output, loss)
    and the kernels the Python layer calls around them, on a tiny problem; [(label, kernel
    name, seconds, "compiled" or "loaded")] in order.

    ``processes`` > 1 shares the jobs out among that many fresh processes, each taking the next
    job as it comes free; they compile into the same disk cache, and a job waits for the earlier
    ones whose compiled callees it would compile too (``waits_for``), so that it loads them
    instead. This process then loads every kernel (a fraction of a second). The rows then give
    each job's seconds in its process. Called from a script, that script needs the ``if
    __name__ == "__main__":`` guard of Python's multiprocessing (spawn).
    """
    if processes == 1:
        return _warm(configuration)
    calls = _calls(configuration)
    most = max(1, min(len(calls), int(available_memory() // COMPILER_BYTES)))
    if processes > most:
        warnings.warn(f"warm-up: {processes} processes capped at {most} (one per job at most, "
                      f"{readable_bytes(COMPILER_BYTES)} of free memory each)")
        processes = most
    rows = _share_out(_warm_one, [(configuration, number) for number in range(len(calls))], processes,
                      waits_for([kernel for _, kernel, _ in calls]))
    _warm(configuration)
    return rows


def waits_for(kernels):
    """[numbers of the earlier kernels that kernel i waits for]: those whose compiled callees it
    compiles too (twins, serial before parallel; a job before the jobs that build on it), as
    ``specialise`` recorded them (``callees``)."""
    linked = [callees(kernel) for kernel in kernels]
    return [tuple(j for j in range(i) if linked[j] and linked[j] <= linked[i]) for i in range(len(kernels))]


def _share_out(function, tasks, processes, waits=None):
    """[function(task) for task in tasks], computed by ``processes`` fresh processes, each taking
    the next task as it comes free, task i once the tasks numbered ``waits[i]`` are done; a
    KernelError if one of the processes dies."""
    waits = waits or [()] * len(tasks)
    others = set(multiprocessing.active_children())
    context = multiprocessing.get_context("spawn")  # a fork would copy numba's threads and locks
    # leaving the block ends the processes, at once on Ctrl-C (which they ignore)
    with context.Pool(processes, initializer=_ignore_interrupts) as pool:
        workers = set(multiprocessing.active_children()) - others
        finished = threading.Event()
        running, done = {}, {}
        while len(done) < len(tasks):
            for i, task in enumerate(tasks):
                if len(running) < processes and i not in running and i not in done and all(j in done for j in waits[i]):
                    running[i] = pool.apply_async(function, (task,), callback=lambda _: finished.set(),
                                                  error_callback=lambda _: finished.set())
            finished.wait(0.5)  # a pool waits forever for the task of a process that died
            finished.clear()
            for i in [i for i, result in running.items() if result.ready()]:
                done[i] = running.pop(i).get()
            if any(worker.exitcode is not None for worker in workers):
                raise runtime.KernelError(f"warm-up: a compiling process died (out of memory?); try fewer than "
                                          f"{processes} processes")
        return [done[i] for i in range(len(tasks))]


COMPILER_BYTES = 500e6  # a process compiling kernels: numpy, numba, LLVM


def default_processes():
    """Processes for a warm-up: one per CPU this process may use, at most 8 (each compiling
    process takes a few hundred MB)."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(usable, 8))


def _calls(configuration):
    """[(label, kernel, arguments)]: every job of ``configuration`` on a tiny problem, then the
    kernels around the jobs."""
    hidden, output, loss = configuration
    net = MLP([1, 2, 1], hidden=hidden, output=output, seed=0)
    XT, YT = np.zeros((1, 6)), np.ones((1, 6))  # n = 6: the blocked kernels need n >= 3 max(sizes)
    calls = []
    for label, kernel, name in job_kernels(hidden, output, loss):
        samples = _samples(net, XT, YT)  # fresh arrays for each call
        calls.append((label, kernel, tuple(samples[argument] for argument in jobs.JOBS[name].arguments)))
    return calls + call_kernels(net, np.zeros((6, 1)), np.ones((6, 1)))


def _warm(configuration, which=None):
    """Warm-up rows (see ``warm_up``) for the calls numbered ``which`` (None: all), in this process."""
    calls = _calls(configuration)
    rows = []
    for label, kernel, arguments in calls if which is None else [calls[i] for i in which]:
        with runtime.CompileWatch() as watch:
            start = time.perf_counter()
            runtime.call(kernel, *arguments)
            seconds = time.perf_counter() - start
        rows.append((label, runtime.kernel_name(kernel), seconds, "compiled" if watch.compiled else "loaded"))
    return rows


def _warm_one(task):
    """A warm-up process's task: (configuration, call number) -> its row."""
    configuration, number = task
    return _warm(configuration, [number])[0]


def _ignore_interrupts():
    """In a warm-up process: leave Ctrl-C to the parent, which ends the processes (no tracebacks)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def entries_built():
    """Entry names (``kernels.specialise.ENTRIES``) with the number of compiled specialisations each."""
    counts = dict.fromkeys(ENTRIES, 0)
    for name, _, _, kernel in built_kernels():
        counts[name] += len(kernel.signatures)
    return counts


def cache_status(configuration=DEFAULT_CONFIGURATION):
    """(cached, total, directory): how many jobs of a configuration have an index in the disk cache.

    numba names a kernel's index ``<source file's stem>.<qualified name>-<line>.py<version>.nbi``
    in its cache directory (``stats.cache_path``; None for a kernel compiled in memory)."""
    kernels = [k for _, k, _ in job_kernels(*configuration)]
    cached, directory = 0, "(none)"
    for k in kernels:
        path = k.stats.cache_path
        if path is None:
            continue
        directory = path
        stem = os.path.splitext(os.path.basename(k.py_func.__code__.co_filename))[0]
        cached += bool(glob.glob(os.path.join(glob.escape(path), glob.escape(f"{stem}.{k.py_func.__qualname__}-")
                                              + "*.nbi")))
    return cached, len(kernels), directory


def runtime_info(start_threads: bool = True) -> dict:
    """Versions, CPU count, threads, threading layer and the kernel cache of the default
    configuration; ``start_threads=False`` reports the layer only if threads have started."""
    from . import __version__
    return {
        "fastgrad": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "cpu_count": os.cpu_count(),
        "num_threads": runtime.get_num_threads(),
        "max_threads": runtime.max_threads(),
        "threading_layer": runtime.threading_layer(start_threads),
        "kernel_cache": "{} of {} jobs of the default configuration cached in {}".format(*cache_status()),
    }
