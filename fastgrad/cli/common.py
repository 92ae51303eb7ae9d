"""What several commands share: the run's header words, the JSON settings, the cluster
options, and the compile notice."""
import sys
import threading
import time
from contextlib import contextmanager

import click
from click.core import ParameterSource

from .. import dask_backend, diagnostics, runtime, runs

def setup(threads, settings):
    """``runs.setup(**settings)``, numba's threads set first (``threads``, None: as they are);
    --data left at its default is None there (the seed example, or a resumed run's own data),
    and ``settings["data"]`` becomes the data the run reads."""
    if threads is not None:
        runtime.set_num_threads(threads)
    if click.get_current_context().get_parameter_source("data") is ParameterSource.DEFAULT:
        settings["data"] = None
    run = runs.setup(**settings)
    settings["data"] = run.data_options["data"]
    return run


def say(json_path):
    """click.echo, to stderr when the JSON output goes to standard output."""
    return lambda text: click.echo(text, err=json_path == "-")


def describe(data_name, run):
    """The run in one line: data, net, loss and seed."""
    net = run.net
    return (f"data {data_name}: {run.data.X.shape[0]} training samples; net {net.sizes} "
            f"({'-'.join(net.hidden + [net.output])}), {net.n_params} parameters; loss {run.loss}; seed {run.seed}")


def recorded_settings(run):
    """The command's options as a JSON output records them (the seed the one ``run`` used),
    with the versions and threads of the run (the runtime facts cost a look at the kernel
    cache: only for a JSON output)."""
    options = click.get_current_context().params
    recorded = {k.replace("_", "-"): list(v) if isinstance(v, tuple) else v for k, v in options.items()}
    recorded["seed"] = run.seed
    recorded["runtime"] = diagnostics.runtime_info(start_threads=False)
    return recorded


def cluster_option(scheduler, dask_workers):
    """The cluster option given ("--scheduler" or "--dask-workers"), or None; refuses both at
    once, and, with a cluster, a typed --backend or --threads (they would choose nothing)."""
    given = [name for name, value in (("--scheduler", scheduler), ("--dask-workers", dask_workers))
             if value is not None]
    if len(given) == 2:
        raise ValueError("--scheduler, --dask-workers: give one of them (a running cluster, or a local one)")
    if not given:
        return None
    context = click.get_current_context()
    for name, key in (("--backend", "backend"), ("--threads", "threads")):
        if context.get_parameter_source(key) is ParameterSource.COMMANDLINE:
            raise ValueError(f"{name}: the numerical gradient runs on the Dask workers with {given[0]}; "
                             f"leave {name} out")
    return given[0]


@contextmanager
def cluster(option, scheduler, dask_workers):
    """The Dask client of the cluster ``option`` names (None without one); a local cluster
    started here is stopped at the end."""
    if option is None:
        yield None
        return
    dask_backend.distributed_module(asked_by=option)
    client = dask_backend.connect(scheduler) if scheduler else dask_backend.local_cluster(dask_workers)
    try:
        yield client
    finally:
        dask_backend.close(client)


def cluster_words(client, scheduler):
    """The cluster in words, for a header."""
    threads = sum(client.nthreads().values())
    where = f"at {scheduler}" if scheduler else "a local cluster"
    return f"dask, {threads} worker thread{'s' * (threads != 1)}, {where}"


class CompileNotice:
    """While numba compiles (not while it loads from the cache): "compiling kernels for this
    configuration (first run only)…" on stderr, with the seconds so far on a terminal, then
    "compiled in X s" once compiling stops (``report``, or the end of the block)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.watch = runtime.CompileWatch(on_first=self._begin)
        self.tty = self.stream.isatty()
        self._reported = 0  # top-level compiles reported so far
        self._stop = threading.Event()
        self._ticker = None
        self._start = None

    def _begin(self):
        self._start = time.perf_counter()
        self.stream.write("compiling kernels for this configuration (first run only)…")
        self.stream.write("" if self.tty else "\n")
        self.stream.flush()
        if self.tty:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def _tick(self):
        while not self._stop.wait(1.0):
            if self.watch.busy:
                self.stream.write(f"\rcompiling kernels for this configuration (first run only)… "
                                  f"{time.perf_counter() - self._start:.0f} s")
                self.stream.flush()

    def report(self):
        """Say how long compiling took, if it has happened since the last report."""
        if self.watch.failed:  # the caller says why (an error, Ctrl-C): end the notice's line
            self._stop.set()
            if self.tty:
                self.stream.write("\n")
                self.stream.flush()
            self.watch.failed = False
        elif len(self.watch.compiled) > self._reported and not self.watch.busy:
            self._reported = len(self.watch.compiled)
            self._stop.set()
            if self._ticker is not None:
                self._ticker.join()
            self.stream.write(("\r\033[K" if self.tty else "") + f"compiled in {self.watch.seconds:.1f} s\n")
            self.stream.flush()

    def __enter__(self):
        self.watch.__enter__()
        return self

    def __exit__(self, *exc):
        self.watch.__exit__(*exc)
        if exc[0] is None:
            self.report()
        else:
            self._stop.set()
            if self.watch.compiled or self.watch.busy:
                self.stream.write("\n")
        return False
