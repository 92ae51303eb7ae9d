"""Benchmark cases shared by the pytest-benchmark suites in bench/ and by ``fastgrad bench``.

A case is one gradient computation, ready to call. Slow baselines at large sizes
differentiate a fixed, evenly spread subset of entries; ``scale`` multiplies their
time up to the whole gradient (every entry costs the same two loss evaluations).
"""
import os
import platform
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .compiled import runtime_info
from .gradients.analytic import analytic_gradient
from .gradients.numerical import numerical_gradient
from .model import MLP

NUMERICAL_BACKENDS = ("python", "numpy", "numba", "numba-parallel")
ANALYTIC_BACKENDS = ("numpy", "numba")
ALLOCATOR_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


@dataclass(frozen=True)
class Case:
    group: str       # what is compared: the network, the data size
    name: str        # e.g. "numerical/numba-parallel"
    run: Callable[[], object]
    scale: float     # time of run() times scale = time of a whole gradient
    n_params: int


def benchmark_problem(sizes, n, seed=0):
    """A tanh net with identity output and smooth targets y_j = sin(x . w_j)."""
    rng = np.random.default_rng(seed)
    net = MLP(sizes, seed=seed)
    X = rng.uniform(-np.pi, np.pi, size=(n, sizes[0]))
    Y = np.sin(X @ rng.normal(size=(sizes[0], sizes[-1])) / np.sqrt(sizes[0]))
    return net, X, Y


def group_name(sizes, n):
    return f"{'-'.join(str(s) for s in sizes)} n={n}"


def gradient_cases(sizes, n, backends=NUMERICAL_BACKENDS + tuple(f"analytic-{b}" for b in ANALYTIC_BACKENDS),
                   max_python_entries=64):
    """One Case per backend for the net ``sizes`` on n samples."""
    net, X, Y = benchmark_problem(sizes, n)
    group = group_name(sizes, n)
    cases = []
    for backend in backends:
        if backend.startswith("analytic-"):
            kind = backend.split("-", 1)[1]
            cases.append(Case(group, f"analytic/{kind}", lambda k=kind: analytic_gradient(net, X, Y, backend=k),
                              1.0, net.n_params))
            continue
        entries = None
        scale = 1.0
        if backend == "python" and net.n_params > max_python_entries:
            entries = np.linspace(0, net.n_params - 1, max_python_entries).round().astype(np.int64)
            scale = net.n_params / max_python_entries
        cases.append(Case(group, f"numerical/{backend}",
                          lambda b=backend, e=entries: numerical_gradient(net, X, Y, backend=b, entries=e),
                          scale, net.n_params))
    return cases


def environment():
    """Machine, versions, threads, threading layer and allocator settings, for every report."""
    info = runtime_info()
    info.update({
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "allocator": {v: os.environ.get(v, "(default)") for v in ALLOCATOR_VARIABLES},
    })
    return info


@dataclass(frozen=True)
class Timing:
    group: str
    name: str
    median: float    # seconds per whole gradient (already multiplied by the case's scale)
    iqr: float
    rounds: int
    scaled: bool     # measured on a subset of entries and scaled up


def _format_seconds(t):
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if t >= factor:
            return f"{t / factor:,.3g} {unit}" if t / factor < 100 else f"{t / factor:,.0f} {unit}"
    return f"{t / 1e-9:,.3g} ns"


def markdown_table(timings):
    """One table per group: median, IQR, speed-up over the python and numpy numerical backends."""
    lines = []
    for group in dict.fromkeys(t.group for t in timings):
        rows = [t for t in timings if t.group == group]
        base = {t.name: t.median for t in rows}
        python, numpy_ = base.get("numerical/python"), base.get("numerical/numpy")
        lines += [f"**{group}**", "",
                  "| backend | median | IQR | rounds | × python | × numpy |",
                  "|---|---:|---:|---:|---:|---:|"]
        for t in sorted(rows, key=lambda t: -t.median):
            note = " ¹" if t.scaled else ""
            over = [f"{ref / t.median:,.1f}" if ref else "–" for ref in (python, numpy_)]
            lines.append(f"| {t.name}{note} | {_format_seconds(t.median)} | {_format_seconds(t.iqr)} "
                         f"| {t.rounds} | {over[0]} | {over[1]} |")
        lines.append("")
    if any(t.scaled for t in timings):
        lines.append("¹ timed on an evenly spread subset of entries and scaled to the whole gradient.")
    return "\n".join(lines)
