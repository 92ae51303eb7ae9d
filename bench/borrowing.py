"""The incremental job with and without reference counting in its per-entry kernels.

``entry_differences``, ``_propagate`` and ``add_products`` allocate nothing and compile without
numba's reference counting (``@template(borrowing=True)``, kernels/jit.py). This script builds
the default configuration's serial incremental job twice in one process — once as shipped,
once with every kernel compiled with reference counting — checks that both give the same bits,
and times them interleaved, at the bench grid's first three sizes.

    python bench/borrowing.py
"""
import time

import numpy as np
from numba import njit

from fastgrad.benchmark import benchmark_problem
from fastgrad.rules import EXACT_CENTRAL_STEP
from fastgrad.kernels import incremental, jit, products, specialise
from fastgrad import Problem

SIZES = [([1, 10, 1], 25, 3000), ([8, 64, 4], 1000, 3), ([16, 64, 64, 8], 500, 1)]


def job(bindings, borrowing):
    """The serial incremental job compiled in memory, its per-entry kernels borrowing or not."""
    compile_function = specialise.compile_function

    def counted(function, **options):
        if not borrowing:
            options.pop("_nrt", None)
        return compile_function(function, **{**options, "cache": False})

    specialise._BUILT.clear()
    specialise._ASKED.clear()
    specialise.compile_function = counted
    incremental.add_products = products.add_products if borrowing else \
        jit.compile_function(products.add_products.py_func, cache=False)
    try:
        kernel = specialise.specialise(incremental.incremental_differences, bindings)
    finally:
        specialise.compile_function = compile_function
        incremental.add_products = products.add_products
        specialise._BUILT.clear()
        specialise._ASKED.clear()

    @njit
    def repeated(count, theta, layout, XT, YT, steps, h, entries, work, out):
        for _ in range(count):
            kernel(theta, layout, XT, YT, steps, 1.0, h, entries, 1, work, out)
    return repeated


def main(rounds=9):
    print("| size | reference counted | borrowing | ratio |\n|---|---:|---:|---:|")
    for sizes, n, count in SIZES:
        net, X, Y = benchmark_problem(sizes, n)
        prob = Problem(net, X, Y)
        h = EXACT_CENTRAL_STEP
        args = (net.theta, net.layout, prob.XT, prob.YT, np.full(net.n_params, h), h, prob.all_entries, prob.workspace)
        jobs = {borrowing: job(prob.formulas, borrowing) for borrowing in (False, True)}
        results = {}
        for borrowing, repeated in jobs.items():
            results[borrowing] = np.empty(net.n_params)
            repeated(1, *args, results[borrowing])
        assert results[False].tobytes() == results[True].tobytes(), "the two jobs differ"
        best = dict.fromkeys(jobs, np.inf)
        for _ in range(rounds):
            for borrowing, repeated in jobs.items():
                start = time.perf_counter()
                repeated(count, *args, results[borrowing])
                best[borrowing] = min(best[borrowing], (time.perf_counter() - start) / count)
        print(f"| {sizes} n={n} | {best[False] * 1e6:.1f} µs | {best[True] * 1e6:.1f} µs | "
              f"{best[True] / best[False]:.2f} |")


if __name__ == "__main__":
    main()
