"""Where threads pay off in the compiled backprop: the serial and the parallel kernel (each
layer's units over threads, the same bits) and numpy's backprop, interleaved in one process,
at sizes whose work n P spans the threshold ``analytic.PARALLEL_MIN_WORK``.

    python bench/threads_backprop.py
"""
import time

import numpy as np

from fastgrad.benchmark import benchmark_problem
from fastgrad.gradients.analytic import PARALLEL_MIN_WORK, numpy_backprop
from fastgrad.problem import Problem

SIZES = [([1, 10, 1], 25), ([4, 16, 2], 200), ([8, 64, 4], 250), ([8, 64, 4], 1000), ([16, 64, 64, 8], 500),
         ([32, 128, 128, 10], 1000)]


def timed(call, seconds=0.2):
    call()
    repeat, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        call()
        repeat += 1
    return (time.perf_counter() - start) / repeat


def main(rounds=5):
    print(f"threshold: n P >= {PARALLEL_MIN_WORK:,}\n")
    print("| size | n P | serial | parallel | numpy | serial / parallel |\n|---|---:|---:|---:|---:|---:|")
    for sizes, n in SIZES:
        net, X, Y = benchmark_problem(sizes, n)
        prob = Problem(net, X, Y)
        serial, parallel = prob.kernel("backprop", False), prob.kernel("backprop", True)
        outs = {name: np.empty(net.n_params) for name in ("serial", "parallel")}
        calls = {
            "serial": lambda: serial(net.theta, net.layout, prob.XT, prob.YT, prob.cache, outs["serial"]),
            "parallel": lambda: parallel(net.theta, net.layout, prob.XT, prob.YT, prob.cache, outs["parallel"]),
            "numpy": lambda: numpy_backprop(prob),
        }
        times = {name: [] for name in calls}
        for _ in range(rounds):
            for name, call in calls.items():
                times[name].append(timed(call))
        if not np.array_equal(outs["serial"], outs["parallel"]):
            raise SystemExit(f"{sizes} n={n}: the parallel backprop differs from the serial one")
        t = {name: float(np.median(v)) for name, v in times.items()}
        print(f"| {sizes} n={n} | {n * net.n_params:,} | {t['serial'] * 1e6:.1f} µs | {t['parallel'] * 1e6:.1f} µs "
              f"| {t['numpy'] * 1e6:.1f} µs | {t['serial'] / t['parallel']:.2f} |")


if __name__ == "__main__":
    main()
