"""Where threads and blocked products pay off in the compiled backprop: the four kernels
(serial or each layer's units over threads; plain loops or the products blocked in registers,
``kernels/products.py``; all with the same bits, checked here) and numpy's backprop,
interleaved in one process, at sizes whose work n P spans the thresholds
``policy.BACKPROP_MIN_WORK`` and ``products.BLOCKED_MIN_WORK``.

    python bench/backprop_kernels.py [ROUNDS]
"""
import sys
import time

import numpy as np

from fastgrad.benchmark import benchmark_problem
from fastgrad.gradients.analytic import numpy_backprop
from fastgrad.policy import BACKPROP_MIN_WORK, backprop_parallel
from fastgrad.kernels.products import BLOCKED_MIN_WORK, blocked_pays_off
from fastgrad import Problem

SIZES = [([1, 10, 1], 25), ([4, 16, 2], 200), ([8, 32, 4], 100), ([8, 64, 4], 250), ([8, 64, 4], 1000),
         ([16, 64, 64, 8], 500), ([32, 128, 128, 10], 1000)]
KERNELS = {"serial": (False, False), "parallel": (True, False), "serial blocked": (False, True),
           "parallel blocked": (True, True)}  # name: (parallel, blocked)


def timed(call, seconds=0.2):
    call()
    repeat, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        call()
        repeat += 1
    return (time.perf_counter() - start) / repeat


def main(rounds=5):
    print(f"thresholds: threads from n P >= {BACKPROP_MIN_WORK:,}, blocks from n P >= {BLOCKED_MIN_WORK:,} "
          "(and n >= 3 max(sizes))\n")
    print("| size | n P | " + " | ".join(KERNELS) + " | numpy | serial / serial blocked | numpy / the kernel used |")
    print("|---|---:|" + "---:|" * (len(KERNELS) + 3))
    for sizes, n in SIZES:
        net, X, Y = benchmark_problem(sizes, n)
        prob = Problem(net, X, Y)
        outs, calls = {}, {}
        for name, (parallel, blocked) in KERNELS.items():
            if blocked and n < 3 * max(sizes):
                continue  # the blocked kernels' workspace needs n >= 3 max(sizes)
            kernel, outs[name] = prob.kernel("backprop", parallel, blocked), np.empty(net.n_params)
            calls[name] = lambda k=kernel, g=outs[name]: k(net.theta, net.layout, prob.XT, prob.YT, prob.cache, g)
        calls["numpy"] = lambda: numpy_backprop(prob)
        times = {name: [] for name in calls}
        for _ in range(rounds):
            for name, call in calls.items():
                times[name].append(timed(call))
        for name, out in outs.items():
            if not np.array_equal(out, outs["serial"]):
                raise SystemExit(f"{sizes} n={n}: the {name} backprop differs from the serial one")
        t = {name: float(np.median(v)) for name, v in times.items()}
        cells = [f"{t[name] * 1e6:,.1f} µs" if name in t else "–" for name in KERNELS]
        blocked = f"{t['serial'] / t['serial blocked']:.2f}" if "serial blocked" in t else "–"
        used = {value: name for name, value in KERNELS.items()}[
            backprop_parallel(n, net.n_params), blocked_pays_off(n, net.n_params, sizes)]
        print(f"| {sizes} n={n} | {n * net.n_params:,} | " + " | ".join(cells)
              + f" | {t['numpy'] * 1e6:,.1f} µs | {blocked} | {t['numpy'] / t[used]:.2f} ({used}) |")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
