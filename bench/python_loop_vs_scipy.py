"""fastgrad's Python loop against scipy's ``approx_derivative`` ("3-point"), interleaved in one
process (scipy, then fastgrad, five times each, medians), on the functions of
``test_bench_derivatives.py`` at n = 9, 97, 997: the ratio a plain Python function pays or
saves. Interleaving keeps a loaded machine's drift out of the ratio.

    python bench/python_loop_vs_scipy.py
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from test_bench_derivatives import FUNCTIONS, _point, _scipy  # noqa: E402

import fastgrad as fg  # noqa: E402

ROUNDS = 5
CALLS = {("mlp-loss", 10): 200, ("mlp-loss", 100): 10, ("mlp-loss", 1000): 1}


def median_seconds(call, calls, rounds):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        times.append((time.perf_counter() - start) / calls)
    return float(np.median(times))


def main():
    print("| function | n | scipy 3-point | fastgrad python | ratio |\n|---|---:|---:|---:|---:|")
    for name in ("rosenbrock", "broyden", "mlp-loss"):
        fun, args = FUNCTIONS[name]
        for n in (10, 100, 1000):
            x = _point(n)
            calls = CALLS.get((name, n), {10: 500, 100: 100, 1000: 10}[n])
            scipy_call = lambda: _scipy(fun, x, args)  # noqa: E731
            ours = lambda: fg.approx_derivative(fun, x, args=args, backend="python")  # noqa: E731
            scipy_call(), ours()
            pairs = [(median_seconds(scipy_call, calls, 1), median_seconds(ours, calls, 1)) for _ in range(ROUNDS)]
            theirs, mine = (float(np.median(column)) for column in zip(*pairs))
            print(f"| {name} | {x.size} | {theirs * 1e3:.3f} ms | {mine * 1e3:.3f} ms | {mine / theirs:.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
