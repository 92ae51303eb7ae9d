"""The textbook size against another checkout, interleaved: the calls that take microseconds.

At [1,10,1], n = 25 a single run moves by up to 2x on a shared machine, so this script
alternates fresh processes of this checkout and another one (``--other``), each timing the
bound and free gradients, the loss and a training step (the fastest of several rounds), next
to the peers that the targets name (a plain numpy forward pass of the net, and a hand-written
numba backprop for one hidden layer), and reports per measure the minimum and median over the processes of each checkout. Each checkout
compiles into a fresh NUMBA_CACHE_DIR: numba checks a cached kernel against its own source
file only, so a kernel cached before an edit to a template in another file would still load.

    python bench/textbook_ab.py --other /path/to/old/checkout --processes 5
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fastest(call, repeat, rounds=9):
    """The fastest of ``rounds`` rounds of ``repeat`` calls, in µs per call."""
    call()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            call()
        best = min(best, (time.perf_counter() - start) / repeat * 1e6)
    return best


def measure():
    """Print 'name µs' for every measure, in this process."""
    import fastgrad as fg
    from fastgrad.benchmark import benchmark_problem
    net, X, Y = benchmark_problem([1, 10, 1], 25)
    one_layer_backprop = _one_layer_backprop()
    prob = fg.Problem(net, X, Y)
    out = np.empty(net.n_params)
    times = {"bound_numerical": fastest(lambda: prob.numerical_gradient(out=out), 2000),
             "bound_analytic": fastest(lambda: prob.analytic_gradient(out=out), 2000),
             "free_numerical": fastest(lambda: fg.numerical_gradient(net, X, Y), 1000),
             "free_analytic": fastest(lambda: fg.analytic_gradient(net, X, Y), 1000),
             "loss": fastest(lambda: fg.loss(net, X, Y), 1000)}
    W1, W2 = (w.copy() for w in net.weights)
    G1, G2 = np.empty_like(W1), np.empty_like(W2)
    times["peer_numpy_forward"] = fastest(lambda: np.tanh(X @ W1[1:] + W1[0]) @ W2[1:] + W2[0], 2000)
    times["peer_numba_backprop"] = fastest(lambda: one_layer_backprop(W1, W2, X, Y, G1, G2), 2000)
    x = np.linspace(-np.pi, np.pi, 25)[:, None]
    for gradient in ("numerical", "analytic"):
        def steps(count):
            fg.train(fg.MLP([1, 10, 1], seed=0), x, np.sin(x), gradient=gradient, backend="numba", steps=count,
                     loss="mse", eta=0.05)
        steps(10)
        times[f"{gradient}_step"] = min(_seconds(steps, 10000) for _ in range(3)) / 10000 * 1e6
    for name, value in times.items():
        print(name, value)


def _one_layer_backprop():
    """The issue's peer: a hand-written numba backprop for one tanh layer, identity output and
    the mean squared error, (W1, W2, X, Y, G1, G2) -> E, gradients in G1, G2."""
    from numba import njit

    @njit
    def backprop(W1, W2, X, Y, G1, G2):
        n, d = X.shape
        units, p = W2.shape[0] - 1, W2.shape[1]
        G1[:] = 0.0
        G2[:] = 0.0
        a = np.empty(units)
        E = 0.0
        for i in range(n):
            for j in range(units):
                z = W1[0, j]
                for r in range(d):
                    z += X[i, r] * W1[r + 1, j]
                a[j] = np.tanh(z)
            for k in range(p):
                o = W2[0, k]
                for j in range(units):
                    o += a[j] * W2[j + 1, k]
                E += (o - Y[i, k]) ** 2 / (n * p)
                delta = 2.0 * (o - Y[i, k]) / (n * p)
                G2[0, k] += delta
                for j in range(units):
                    G2[j + 1, k] += a[j] * delta
                    dz = delta * W2[j + 1, k] * (1.0 - a[j] * a[j])
                    G1[0, j] += dz
                    for r in range(d):
                        G1[r + 1, j] += X[i, r] * dz
        return E
    return backprop


def _seconds(function, *args):
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", required=True, help="another checkout of fastgrad")
    parser.add_argument("--processes", type=int, default=5, help="processes per checkout")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return measure()
    checkouts = {"this": HERE, "other": os.path.abspath(args.other)}
    results = {label: {} for label in checkouts}
    caches = {label: tempfile.TemporaryDirectory(prefix=f"fastgrad-ab-{label}-") for label in checkouts}
    for _ in range(args.processes + 1):  # the first round fills each checkout's kernel cache
        for label, path in checkouts.items():
            env = dict(os.environ, PYTHONPATH=path, NUMBA_CACHE_DIR=caches[label].name, FASTGRAD_CACHE_DIR=caches[label].name)
            output = subprocess.run([sys.executable, os.path.abspath(__file__), "--other", args.other, "--measure"],
                                    env=env, capture_output=True, text=True, check=True, cwd=path).stdout
            for name, value in re.findall(r"(\w+) ([\d.]+)", output):
                results[label].setdefault(name, []).append(float(value))
    print("| measure (µs) | this: min | this: median | other: min | other: median | min ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, values in results["this"].items():
        this, other = values[1:], results["other"][name][1:]
        print(f"| {name} | {min(this):.2f} | {statistics.median(this):.2f} | {min(other):.2f} | "
              f"{statistics.median(other):.2f} | {min(this) / min(other):.2f} |")


if __name__ == "__main__":
    main()
