"""The layers' products, B[u, i] += sum_r A[r, i] C[r, u], blocked against the plain loop.

``fastgrad.kernels.products.add_products`` (four units by four rows per pass over the samples)
against the plain triple loop it replaced, at the shapes the bench grid's nets multiply (rows =
the layer's inputs, units = its outputs), interleaved in one process; both must give the same
bits, which the script checks before it times.

    python bench/products.py
"""
import time

import numpy as np
from numba import njit

from fastgrad.kernels.products import add_products

SHAPES = [(64, 8, 500), (64, 64, 500), (128, 10, 1000), (128, 128, 1000), (10, 1, 25)]


@njit(cache=True, error_model="numpy")
def plain_products(A, C, B):
    """The plain loop: for u, for r, for i, B[u, i] += A[r, i] C[r, u]."""
    rows, n = A.shape
    for u in range(B.shape[0]):
        for r in range(rows):
            w = C[r, u]
            for i in range(n):
                B[u, i] += A[r, i] * w


def timed(product, A, C, B, repeat):
    start = time.perf_counter()
    for _ in range(repeat):
        product(A, C, B)
    return (time.perf_counter() - start) / repeat


def main(rounds=7):
    rng = np.random.default_rng(0)
    print("| rows x units, n | plain loop | blocked | ratio |\n|---|---:|---:|---:|")
    for rows, units, n in SHAPES:
        A, C = rng.normal(size=(rows, n)), rng.normal(size=(rows, units))
        plain, blocked = np.zeros((units, n)), np.zeros((units, n))
        plain_products(A, C, plain)
        add_products(A, C, blocked)
        if not np.array_equal(plain, blocked):
            raise SystemExit(f"{rows} x {units}: the blocked products differ from the plain loop")
        repeat = max(1, int(2e7 / (rows * units * n)))
        times = {plain_products: [], add_products: []}
        for _ in range(rounds):
            for product in times:
                times[product].append(timed(product, A, C, plain, repeat))
        t_plain, t_blocked = (float(np.median(times[p])) for p in (plain_products, add_products))
        print(f"| {rows} x {units}, {n} | {t_plain * 1e6:.1f} µs | {t_blocked * 1e6:.1f} µs "
              f"| {t_plain / t_blocked:.2f}x |")


if __name__ == "__main__":
    main()
