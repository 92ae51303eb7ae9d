"""What a batched strategy through numpy would cost at a deep size: numpy's tanh per element
and the rate of the (outputs x units) @ (units x block*n) products that would propagate a
block of perturbed entries, against the compiled incremental gradient, in one process.

For [16,64,64,8] n = 500 (the default), the first-layer entries (17 x 64) each carry a change
of one unit through 64 tanh units and an 8 x 64 product per sample and sign:
    tanh count   = entries * 2 * n * 64,    multiply-adds = entries * 2 * n * 64 * 8.

    python bench/batched_floor.py
"""
import time

import numpy as np

import fastgrad as fg
from fastgrad.benchmark import benchmark_problem


def rate(call, work, repeat=20):
    call()
    start = time.perf_counter()
    for _ in range(repeat):
        call()
    return work * repeat / (time.perf_counter() - start)


def main(sizes=(16, 64, 64, 8), n=500, block=16):
    d, h1, h2, p = sizes
    rng = np.random.default_rng(0)
    z = rng.random(h2 * n * block)
    tanh_per_second = rate(lambda: np.tanh(z), z.size)
    W, A = rng.random((p, h2)), rng.random((h2, n * block))
    mac_per_second = rate(lambda: W @ A, p * h2 * n * block)
    entries = (d + 1) * h1
    tanh_count, macs = entries * 2 * n * h2, entries * 2 * n * h2 * p
    projected = tanh_count / tanh_per_second + macs / mac_per_second
    net, X, Y = benchmark_problem(list(sizes), n)
    fg.set_num_threads(1)
    compiled = 1.0 / rate(lambda: fg.numerical_gradient(net, X, Y, backend="numba"), 1.0, repeat=3)
    print(f"np.tanh: {1e9 / tanh_per_second:.1f} ns/element; ({p} x {h2}) @ ({h2} x {n * block}): "
          f"{mac_per_second / 1e9:.2f} GMAC/s")
    print(f"batched through numpy, projected: {projected:.2f} s ({tanh_count:.2g} tanh, {macs:.2g} multiply-adds); "
          f"compiled incremental, one thread: {compiled:.3f} s")


if __name__ == "__main__":
    main()
