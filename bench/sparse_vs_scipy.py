"""Banded Jacobians at n = 100,000: fastgrad's sparse ``approx_derivative`` against scipy's, given
the same sparsity (the structure; each groups the columns itself), in one run.

Residuals (numba-compiled, so fastgrad runs its compiled loop; scipy calls the same function
from Python):

    tridiagonal       r_i = x_{i-1} - 2 x_i + x_{i+1} + x_i^3 - 1
    five_band_cubic   r_i = x_{i-2} + x_{i-1} - 4 x_i + x_{i+1} + x_{i+2} + x_i^3 - 1
    five_band_sine    r_i = x_{i-2} + x_{i-1} - 4 x_i + x_{i+1} + x_{i+2} + sin(x_i)

(missing neighbours are 0). The cubic residuals cost little next to the calls (as the
issue's reference residual: about 1/600 of scipy's call per evaluation); the sine one's
``sin`` costs about ten times theirs, so its evaluations make up most of fastgrad's call.
Prints the machine, numba's threading layer, the load average,
and for each case the median over ``--repeats`` runs after one warm-up of: one evaluation of
the residual (``f ms``), scipy's call, fastgrad's on "numba" and "numba-parallel" with the
ratios, ``f part``: the share of the parallel call that the evaluations on its busier thread
take (f0, then the points of the groups dealt over the threads: (1 + ceil(P G / T)) f, P the
rule's points, G the groups, T the threads), the page faults per call of scipy's call and of fastgrad's parallel one (the first
touch of freshly mapped memory: both allocate arrays of n entries on every call), and
``group_columns`` (``grouping ms``: what fastgrad's call adds where the structure is new;
repeated calls with a structure that stores the same entries reuse its groups), then the
largest difference of the results relative to the largest entry. ``groups`` are scipy's
(its random column order) and fastgrad's (the fewer of that order's and the columns' own).

``--allocator reuse`` runs the same in a child process whose C allocator keeps freed memory
for reuse (glibc: ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` set), so that
neither call pays page faults; ``both`` runs the default and then that.
Run: ``python bench/sparse_vs_scipy.py [--n 100000] [--allocator both]``.
"""
import argparse
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np
from numba import njit
from scipy import sparse
from scipy.optimize._numdiff import approx_derivative as scipy_approx_derivative

import fastgrad as fg
from fastgrad.sparse import fewest_groups, pattern


@njit(cache=True)
def tridiagonal(x):
    n = x.shape[0]
    r = np.empty(n)
    for i in range(n):
        left = x[i - 1] if i > 0 else 0.0
        right = x[i + 1] if i < n - 1 else 0.0
        r[i] = left - 2.0 * x[i] + right + x[i] ** 3 - 1.0
    return r


@njit(cache=True)
def five_band_cubic(x):
    n = x.shape[0]
    r = np.empty(n)
    for i in range(n):
        total = -4.0 * x[i] + x[i] ** 3 - 1.0
        for d in (-2, -1, 1, 2):
            if 0 <= i + d < n:
                total += x[i + d]
        r[i] = total
    return r


@njit(cache=True)
def five_band_sine(x):
    n = x.shape[0]
    r = np.empty(n)
    for i in range(n):
        total = -4.0 * x[i] + np.sin(x[i])
        for d in (-2, -1, 1, 2):
            if 0 <= i + d < n:
                total += x[i + d]
        r[i] = total
    return r


REUSE = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 31)}  # glibc's settings


def median_seconds(run, repeats):
    """(median seconds, page faults per call) of ``repeats`` calls after one warm-up."""
    run()
    times = []
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / repeats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--allocator", choices=("default", "reuse", "both"), default="default")
    options = parser.parse_args()
    if options.allocator != "default" and not all(os.environ.get(k) == v for k, v in REUSE.items()):
        if options.allocator == "both":
            table(options.n, options.repeats)
            sys.stdout.flush()
        child = [sys.executable, __file__, "--n", str(options.n), "--repeats", str(options.repeats),
                 "--allocator", "reuse"]
        sys.exit(subprocess.run(child, env={**os.environ, **REUSE}).returncode)
    table(options.n, options.repeats)


def table(n, repeats):
    x0 = np.linspace(-1.0, 1.0, n)
    allocator = " ".join(f"{k}={os.environ[k]}" for k in REUSE if k in os.environ) or "default"
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; numba threads "
          f"{fg.get_num_threads()}, threading layer {fg.runtime_info().get('threading_layer', '?')}; "
          f"load average {os.getloadavg()[0]:.1f}; allocator: {allocator}")
    print(f"{'residual':>15} {'method':>8} {'groups':>6} {'f ms':>6} {'scipy ms':>9} {'numba ms':>9} {'ratio':>6} "
          f"{'parallel ms':>11} {'ratio':>6} {'f part':>6} {'faults/call':>12} {'grouping ms':>11} "
          f"{'max rel diff':>12}")
    for fun, width in ((tridiagonal, 1), (five_band_cubic, 2), (five_band_sine, 2)):
        structure = sparse.diags([np.ones(n - abs(d)) for d in range(-width, width + 1)],
                                 list(range(-width, width + 1)), format="csr")
        ours_groups = fewest_groups(pattern(structure)).max() + 1
        groups = f"{fg.group_columns(structure).max() + 1}/{ours_groups}"
        evaluation_s = median_seconds(lambda: fun(x0), repeats)[0]
        grouping_s = median_seconds(lambda: fg.group_columns(structure), repeats)[0]
        for points, method in ((1, "2-point"), (2, "3-point")):
            theirs = scipy_approx_derivative(fun, x0, method=method, sparsity=structure)
            scipy_s, scipy_faults = median_seconds(
                lambda: scipy_approx_derivative(fun, x0, method=method, sparsity=structure), repeats)
            row = f"{fun.__name__:>15} {method:>8} {groups:>6} {1e3 * evaluation_s:>6.2f} {1e3 * scipy_s:>9.2f}"
            difference = 0.0
            for backend in ("numba", "numba-parallel"):
                ours = fg.approx_derivative(fun, x0, method=method, sparsity=structure, backend=backend)
                difference = max(difference, abs(ours - theirs).max() / abs(theirs).max())
                ours_s, faults = median_seconds(lambda: fg.approx_derivative(
                    fun, x0, method=method, sparsity=structure, backend=backend), repeats)
                row += f" {1e3 * ours_s:>{9 if backend == 'numba' else 11}.2f} {scipy_s / ours_s:>6.1f}"
            busier = 1 + -(-points * ours_groups // fg.get_num_threads())
            row += f" {busier * evaluation_s / ours_s:>6.0%}"
            print(f"{row} {f'{scipy_faults:.0f}/{faults:.0f}':>12} {1e3 * grouping_s:>11.2f} {difference:>12.1e}")


if __name__ == "__main__":
    main()
