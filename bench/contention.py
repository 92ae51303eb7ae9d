"""The default backend against serial while another process keeps one core busy, and quiet.

For each job and size it times, interleaved in one process, the default ("numba-parallel",
which steps aside while the cores are contended: ``fastgrad.policy.contended``) and the
serial "numba" backend, with and without a busy neighbour (a process spinning on the last
CPU we may use), and prints medians and the ratio default / serial for each condition. The
jobs: the bound numerical gradient of MLPs of several sizes, a numerical training step, and
``approx_derivative`` of an njit function of several dimensions.

    python bench/contention.py [--rounds 15]

The goal (issue 29): busy, the default is never more than 1.5x serial; quiet, it keeps its
speed-up. Figures go to docs/performance.md with the machine and the date.
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

import numba
import numpy as np

import fastgrad as fg

SPIN = "while True: pass"


def busy_neighbour():
    """A process spinning on the last CPU of ours (a shared machine's other job)."""
    cpu = max(os.sched_getaffinity(0))
    return subprocess.Popen([sys.executable, "-c", f"import os; os.sched_setaffinity(0, {{{cpu}}})\n{SPIN}"])


def per_call(call, seconds=0.3):
    """Median seconds per call over calls filling about ``seconds``."""
    call()
    times, spent = [], 0.0
    while spent < seconds or len(times) < 3:
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
        spent += times[-1]
    return statistics.median(times)


def mlp_jobs():
    jobs = {}
    for sizes, n in (([3, 10, 1], 400), ([8, 64, 4], 1000), ([16, 64, 64, 8], 500)):
        rng = np.random.default_rng(0)
        net = fg.MLP(sizes, seed=0)
        X = rng.normal(size=(n, sizes[0]))
        Y = np.tanh(X[:, : sizes[-1]])
        prob = fg.Problem(net, X, Y)
        out = np.empty(net.n_params)
        name = "-".join(map(str, sizes))
        jobs[f"numerical gradient {name} n={n}"] = {
            backend: (lambda b=backend, prob=prob, out=out: prob.numerical_gradient(out=out, backend=b))
            for backend in ("numba-parallel", "numba")}
        if net.n_params * n < 1e6:  # a training step of the largest net costs as much as its gradient
            jobs[f"train step {name} n={n} (10 steps)"] = {
                backend: (lambda b=backend, net=net, X=X, Y=Y: fg.train(net.copy(), X, Y, steps=10, eta=1e-3,
                                                                       backend=b))
                for backend in ("numba-parallel", "numba")}
    return jobs


@numba.njit(cache=True)
def rosenbrock(x):
    total = 0.0
    for i in range(x.size - 1):
        total += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return total


def derivative_jobs():
    jobs = {}
    for n in (20, 200, 2000):
        x0 = np.linspace(-1.0, 1.0, n)
        jobs[f"approx_derivative rosenbrock n={n}"] = {
            backend: (lambda b=backend, x0=x0: fg.approx_derivative(rosenbrock, x0, backend=b))
            for backend in ("numba-parallel", "numba")}
    return jobs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternations of busy and quiet")
    args = parser.parse_args()
    jobs = {**mlp_jobs(), **derivative_jobs()}
    for calls in jobs.values():  # compile (or load) everything before timing
        for call in calls.values():
            call()
    times = {(job, condition, backend): [] for job in jobs for condition in ("quiet", "busy")
             for backend in ("numba-parallel", "numba")}
    for _ in range(args.rounds):
        for condition in ("quiet", "busy"):
            neighbour = busy_neighbour() if condition == "busy" else None
            try:
                time.sleep(2 * fg.policy.LOOK_SECONDS)  # the policy sees the neighbour (or its absence)
                for job, calls in jobs.items():
                    for backend in ("numba-parallel", "numba"):
                        times[job, condition, backend].append(per_call(calls[backend]))
            finally:
                if neighbour is not None:
                    neighbour.kill()
                    neighbour.wait()
    info = fg.runtime_info()
    print(f"# contention: {platform.processor() or platform.machine()}, {info['cpu_count']} CPUs, "
          f"numba {info['numba']} ({info['threading_layer']} layer, {info['num_threads']} threads), "
          f"{time.strftime('%Y-%m-%d %H:%M')}; medians of {args.rounds} rounds\n")
    print("| job | quiet: default | quiet: serial | quiet ratio | busy: default | busy: serial | busy ratio |")
    print("|---|---|---|---|---|---|---|")
    for job in jobs:
        row = [job]
        for condition in ("quiet", "busy"):
            default, serial = (statistics.median(times[job, condition, b]) for b in ("numba-parallel", "numba"))
            row += [f"{default * 1e6:.4g} µs", f"{serial * 1e6:.4g} µs", f"{default / serial:.2f}"]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
