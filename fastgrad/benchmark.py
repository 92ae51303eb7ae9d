"""Benchmark cases shared by the pytest-benchmark suites in bench/ and by ``fastgrad bench``.

A case is one gradient computation, ready to call. Slow baselines at large sizes
differentiate a fixed, evenly spread subset of entries; ``scale`` multiplies their
time up to the whole gradient (every entry costs the same two loss evaluations).
"""
import ctypes
import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from . import policy
from .diagnostics import runtime_info
from .gradients.analytic import analytic_gradient
from .gradients.numerical import numerical_gradient
from .model import MLP, parameter_count
from .validation import check_allocation

FULL = "-full"  # a numba backend re-evaluating in full (strategy="full")
NUMERICAL_BACKENDS = (policy.PYTHON, policy.NUMPY, policy.NUMBA + FULL, policy.NUMBA_PARALLEL + FULL, policy.NUMBA,
                      policy.NUMBA_PARALLEL)
ANALYTIC_BACKENDS = policy.ANALYTIC_BACKENDS
# "-bound": the method of a fastgrad.Problem built once, writing into a reused array
BOUND_BACKENDS = ("numba-bound", "analytic-numba-bound")
ALL_BACKENDS = NUMERICAL_BACKENDS + tuple(f"analytic-{b}" for b in ANALYTIC_BACKENDS) + BOUND_BACKENDS
CLUSTER_BACKENDS = ("dask",)  # timed only when a Dask client is given
# Slow cases differentiate a subset of about this many units of work (n * entries) and scale up.
SUBSET_BUDGET = {policy.PYTHON: 4e6, policy.NUMPY: 2e9, policy.NUMBA + FULL: 1.5e8, policy.NUMBA_PARALLEL + FULL: 3e8}
ALLOCATOR_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
TUNED_ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": 268435456, "MALLOC_TRIM_THRESHOLD_": 536870912}
_MALLOPT = {"MALLOC_TRIM_THRESHOLD_": -1, "MALLOC_MMAP_THRESHOLD_": -3}  # glibc's M_* parameters
DEFAULT_GRID = ("1-10-1:25", "8-64-4:1000", "16-64-64-8:500", "32-128-128-10:1000")
QUICK_GRID = ("1-10-1:25", "4-16-2:100")


@dataclass(frozen=True)
class Case:
    group: str       # what is compared: the network, the data size
    name: str        # e.g. "numerical/numba-parallel"
    run: Callable[[], object]
    scale: float     # time of run() times scale = time of a whole gradient (or of one step)
    n_params: int
    entries: np.ndarray = None  # the subset of theta a scaled gradient case differentiates


def benchmark_problem(sizes, n, seed=0):
    """A tanh net with identity output and smooth targets y_j = sin(x . w_j)."""
    rng = np.random.default_rng(seed)
    net = MLP(sizes, seed=seed)
    X = rng.uniform(-np.pi, np.pi, size=(n, sizes[0]))
    Y = np.sin(X @ rng.normal(size=(sizes[0], sizes[-1])) / np.sqrt(sizes[0]))
    return net, X, Y


def group_name(sizes, n):
    return f"{'-'.join(str(s) for s in sizes)} n={n}"


def parallel(name):
    """Whether a case's time depends on the thread count: the parallel numerical backend and
    the compiled backprop (threads where they pay off)."""
    return name.startswith((f"numerical/{policy.NUMBA_PARALLEL}", f"analytic/{policy.NUMBA}"))


def _kind_and_strategy(backend):
    """("numba", "full") for "numba-full"; (backend, None) for a backend without the suffix."""
    return (backend.removesuffix(FULL), "full") if backend.endswith(FULL) else (backend, None)


def gradient_cases(sizes, n, backends=ALL_BACKENDS, client=None):
    """One Case per backend for the net ``sizes`` on n samples.

    Backends: python, numpy, numba-full and numba-parallel-full (whole forward pass per
    evaluation), numba and numba-parallel (incremental), analytic-numpy, analytic-numba,
    the bound ones (``BOUND_BACKENDS``) and, on the Dask ``client``, dask.
    """
    net, X, Y = benchmark_problem(sizes, n)
    group = group_name(sizes, n)
    cases = []
    for backend in backends:
        if backend == "dask":
            cases.append(Case(group, "numerical/dask",
                              lambda: numerical_gradient(net, X, Y, backend="dask", client=client), 1.0, net.n_params))
            continue
        if backend.endswith("-bound"):
            cases.append(_bound_case(group, backend, net, X, Y))
            continue
        if backend.startswith("analytic-"):
            kind = backend.split("-", 1)[1]
            cases.append(Case(group, f"analytic/{kind}", lambda k=kind: analytic_gradient(net, X, Y, backend=k),
                              1.0, net.n_params))
            continue
        entries = None
        scale = 1.0
        budget = SUBSET_BUDGET.get(backend)  # entries cost n * P each in these backends
        count = net.n_params if budget is None else int(min(net.n_params, max(4, budget // (n * net.n_params))))
        if count < net.n_params:
            entries = np.linspace(0, net.n_params - 1, count).round().astype(np.int64)
            scale = net.n_params / count
        kind, strategy = _kind_and_strategy(backend)
        cases.append(Case(group, f"numerical/{backend}",
                          lambda b=kind, e=entries, s=strategy: numerical_gradient(net, X, Y, backend=b, entries=e,
                                                                                   strategy=s),
                          scale, net.n_params, entries))
    return cases


def _bound_case(group, backend, net, X, Y):
    """A Case timing a Problem's method (built once, outside the timing) with ``out=``."""
    from .bound import Problem
    prob, out = Problem(net, X, Y), np.empty(net.n_params)
    if backend.startswith("analytic-"):
        return Case(group, "analytic/numba-bound", lambda: prob.analytic_gradient(out=out), 1.0, net.n_params)
    return Case(group, "numerical/numba-bound", lambda: prob.numerical_gradient(out=out, backend="numba"), 1.0,
                net.n_params)


def training_cases(example_name, backends=ALL_BACKENDS, compiled_steps=200):
    """One Case per backend: one full-batch gradient step of a textbook example.

    Uncompiled backends time one step (gradient, then theta -= eta g) on a copy of the
    net; compiled ones time ``train`` over ``compiled_steps`` steps, scaled to one step.
    """
    from . import datasets
    from .train import train
    example = datasets.seed_numerical_example() if example_name == "seed" else datasets.seed_analytic_example()
    X, Y, loss, eta = example.data.X, example.data.Y, example.loss, example.eta
    group = f"train step: {example_name} example"
    cases = []
    for backend in (b for b in backends if b not in BOUND_BACKENDS):  # training has no bound variant
        net = example.net.copy()
        gradient, kind = ("analytic", backend.split("-", 1)[1]) if backend.startswith("analytic-") \
            else ("numerical", backend)
        if kind.startswith("numba"):
            kind, strategy = _kind_and_strategy(kind)

            def run(net=net, gradient=gradient, kind=kind, strategy=strategy):
                net.theta[:] = example.net.theta
                return train(net, X, Y, loss=loss, gradient=gradient, backend=kind, steps=compiled_steps, eta=eta,
                             strategy=strategy)
            scale = 1.0 / compiled_steps
        else:
            grad = analytic_gradient if gradient == "analytic" else numerical_gradient

            def run(net=net, grad=grad, kind=kind):
                net.theta[:] = example.net.theta
                net.theta -= eta * grad(net, X, Y, loss=loss, backend=kind)
                return net.theta
            scale = 1.0
        cases.append(Case(group, f"{gradient}/{backend.split('-', 1)[1] if gradient == 'analytic' else backend}",
                          run, scale, example.net.n_params))
    return cases


def environment():
    """Machine, versions, threads, threading layer and allocator settings, for every report."""
    info = runtime_info()
    info.update({
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "allocator": _allocator_setting or {v: os.environ.get(v, "(default)") for v in ALLOCATOR_VARIABLES},
    })
    return info


_allocator_setting = None


def tune_allocator():
    """Set glibc's mmap and trim thresholds in this process (as the MALLOC_*_ variables would):
    numpy's temporaries then reuse memory instead of page-faulting fresh mappings each call.
    Returns False where the C library has no mallopt."""
    global _allocator_setting
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    for name, value in TUNED_ALLOCATOR.items():
        if mallopt(_MALLOPT[name], value) != 1:
            return False
    _allocator_setting = {name: f"{value} (mallopt)" for name, value in TUNED_ALLOCATOR.items()}
    return True


def parse_size(spec):
    """'8-64-4:1000' -> ([8, 64, 4], 1000)."""
    try:
        layers, n = spec.split(":")
        sizes = [int(v) for v in layers.split("-")]
        n = int(n)
    except ValueError:
        raise ValueError(f"sizes: expected a spec like 8-64-4:1000 (layer widths:samples), got {spec!r}") from None
    if len(sizes) < 2 or min(sizes) < 1 or n < 1:
        raise ValueError(f"sizes: widths and samples must be >= 1, with at least two layers, got {spec!r}")
    n_params = parameter_count(sizes)
    # theta and a gradient per backend, the data, and a forward cache of n x (sum of widths), twice
    check_allocation("sizes", f"{spec} ({n_params:.3g} parameters, {n} samples)",
                     8 * (4 * n_params + 3 * n * sum(sizes)))
    return sizes, n


def measure(run, min_seconds=0.2, min_rounds=3, max_rounds=10_000):
    """Call ``run`` once to warm up, then repeatedly; return (median, IQR, rounds) in seconds."""
    run()
    times = []
    start = time.perf_counter()
    while len(times) < min_rounds or (time.perf_counter() - start < min_seconds and len(times) < max_rounds):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    q1, median, q3 = np.percentile(times, [25, 50, 75])
    return float(median), float(q3 - q1), len(times)


@dataclass(frozen=True)
class GridResult:
    group: str
    name: str
    n_params: int
    threads: int
    median: float      # seconds per whole gradient
    iqr: float
    rounds: int
    scaled: bool
    rel_error: float   # max |g - g_analytic| / max |g_analytic| on the entries computed


def run_grid(specs, backends, thread_counts, progress=None, min_seconds=0.2, client=None):
    """Time every backend on every size (numba-parallel at every thread count; dask on
    ``client``, its threads being the workers'); a list of GridResult.

    Stops early on KeyboardInterrupt and returns what it measured with ``partial`` True.
    """
    from .runtime import get_num_threads, set_num_threads
    results = []
    before = get_num_threads()
    worker_threads = sum(client.nthreads().values()) if client is not None else 0
    try:
        for spec in specs:
            sizes, n = parse_size(spec)
            exact = analytic_gradient(*benchmark_problem(sizes, n), backend="numpy")
            for case in gradient_cases(sizes, n, backends, client):
                reference = exact if case.entries is None else exact[case.entries]
                for threads in thread_counts if parallel(case.name) else [before]:
                    set_num_threads(threads)
                    grad = case.run()
                    rel = float(np.abs(grad - reference).max() / np.abs(exact).max())
                    median, iqr, rounds = measure(case.run, min_seconds)
                    used = threads if parallel(case.name) else worker_threads if case.name == "numerical/dask" else 1
                    results.append(GridResult(case.group, case.name, case.n_params, used, median * case.scale,
                                              iqr * case.scale, rounds, case.scale != 1.0, rel))
                    if progress is not None:
                        progress(results[-1])
    except KeyboardInterrupt:
        return results, True
    finally:
        set_num_threads(before)
    return results, False


def growth_exponents(results):
    """Fitted b in time ~ P^b per backend (single-thread rows; at least two sizes)."""
    exponents = {}
    for name in dict.fromkeys(r.name for r in results):
        top = max(r.threads for r in results if r.name == name)
        rows = [r for r in results if r.name == name and r.threads == top]
        if size_count(results, name) >= 2:
            b, _ = np.polyfit(np.log([r.n_params for r in rows]), np.log([r.median for r in rows]), 1)
            exponents[name] = float(b)
    return exponents


def size_count(results, name):
    """How many network sizes backend ``name`` was measured at."""
    return len({r.n_params for r in results if r.name == name})


def results_to_json(results, partial):
    return {"partial": partial, "environment": environment(), "results": [asdict(r) for r in results],
            "growth_exponents": growth_exponents(results)}


def grid_markdown(results):
    """The Markdown table: time per gradient, speed-up over python and numpy, error vs analytic."""
    lines = ["| size | backend | threads | median | IQR | × python | × numpy | rel. error vs analytic |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for group in dict.fromkeys(r.group for r in results):
        rows = [r for r in results if r.group == group]
        base = {r.name: r.median for r in rows}
        for r in rows:
            over = [f"{base[k] / r.median:,.1f}" if k in base else "–"
                    for k in ("numerical/python", "numerical/numpy")]
            known = np.isfinite(r.rel_error) and not r.name.startswith("analytic")
            err = f"{r.rel_error:.1e}" if known else "–"
            lines.append(f"| {group} | {r.name}{' ¹' if r.scaled else ''} | {r.threads} | "
                         f"{_format_seconds(r.median)} | {_format_seconds(r.iqr)} | {over[0]} | {over[1]} | {err} |")
    if any(r.scaled for r in results):
        lines += ["", "¹ scaled: a gradient timed on an evenly spread subset of entries, or a compiled training "
                      "run timed over many steps, then scaled to one whole gradient or one step."]
    return "\n".join(lines) + "\n"


def read_comparison(path):
    """{(group, name, threads): median} from an earlier bench JSON file, every row checked, so
    that a file of the wrong structure is refused before a run, not after it."""
    try:
        with open(path) as f:
            rows = json.load(f)["results"]
        old = {}
        for r in rows:
            key = (r["group"], r["name"], r["threads"])
            median = r["median"]
            if not (all(isinstance(k, str) for k in key[:2]) and isinstance(key[2], int)
                    and isinstance(median, (int, float)) and math.isfinite(median) and median > 0):
                raise ValueError(f"a row that is not (group, name, threads, median > 0): {r}")
            old[key] = float(median)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"--compare: {path} is not a fastgrad bench JSON file ({exc})") from None
    return old


def compare(results, old):
    """Lines 'group backend threads: new/old' for rows present in both runs (``old`` as
    ``read_comparison`` returns it)."""
    lines = []
    for r in results:
        key = (r.group, r.name, r.threads)
        if key in old:
            ratio = r.median / old[key]
            lines.append(f"{r.group:>18}  {r.name:<26} {r.threads:>2} threads: {ratio:6.2f}x the old time")
    return lines


def _format_seconds(t):
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if t >= factor:
            return f"{t / factor:,.3g} {unit}" if t / factor < 100 else f"{t / factor:,.0f} {unit}"
    return f"{t / 1e-9:,.3g} ns"
