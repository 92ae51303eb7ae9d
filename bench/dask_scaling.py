"""The dask backend's cost model, measured here and projected to bigger clusters.

    python bench/dask_scaling.py                       # measure on a local cluster of 2 workers
    python bench/dask_scaling.py --bandwidth 1.25e9     # project with a 10 GbE network instead

Measures, on a LocalCluster of single-threaded worker processes in this run: the compute
rate of the serial kernel (seconds per multiply-add of ``dask_backend.entry_costs``), the
overhead of one task, the seconds to broadcast a byte to one worker, and the gradient at
SIZE on the cluster against ``numba-parallel`` on as many threads. Then predicts the time of
one gradient at LARGE for 8, 64 and 512 workers with

    T(W) = W * bytes * s_byte                   scattering net, X and Y to every worker (from one client)
         + C / W * (1 + 1 / (blocks / W))       compute, with up to one block of imbalance per worker
         + blocks * s_task                      the scheduler's per-task cost (serial in the scheduler)

C being the serial compute time from the cost model and ``blocks`` the backend's own rule.
Prints Markdown; the machines are shared and noisy, so compare within one run.
"""
import argparse
import statistics
import time

import numpy as np

LARGE = ([784, 256, 256, 10], 10_000)  # an MNIST-sized MLP on 10,000 samples
SIZE = ([16, 64, 64, 8], 2000)          # where one serial gradient takes seconds on the 2-core machine


def _median_time(run, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _noop(i):
    return i


def measure(client, repeat):
    """The model's constants and the gradient at SIZE, measured on ``client``'s cluster."""
    import fastgrad as fg
    from fastgrad import dask_backend, runtime
    from fastgrad.benchmark import benchmark_problem

    workers = len(client.nthreads())
    net, X, Y = benchmark_problem(*SIZE)
    costs = dask_backend.entry_costs(net.sizes, X.shape[0], "incremental")
    fg.numerical_gradient(net, X, Y, backend="numba")  # compile or load
    serial = _median_time(lambda: fg.numerical_gradient(net, X, Y, backend="numba"), repeat)
    fg.set_num_threads(min(workers, runtime.max_threads()))
    fg.numerical_gradient(net, X, Y, backend="numba-parallel")
    fg.numerical_gradient(net, X, Y, backend="dask", client=client)  # the workers load their kernels
    threaded, spread = [], []
    for _ in range(repeat):  # interleaved, so that the machine's mood changes both alike
        threaded.append(_median_time(lambda: fg.numerical_gradient(net, X, Y, backend="numba-parallel"), 1))
        spread.append(_median_time(lambda: fg.numerical_gradient(net, X, Y, backend="dask", client=client), 1))
    threaded, spread = statistics.median(threaded), statistics.median(spread)
    tasks = 200
    s_task = _median_time(lambda: client.gather(client.map(_noop, range(tasks), pure=False)), repeat) / tasks
    payload = np.zeros(4_000_000)  # 32 MB
    s_byte = _median_time(lambda: client.scatter(payload, broadcast=True, hash=False).release(), repeat) \
        / (payload.nbytes * workers)
    return {"workers": workers, "serial": serial, "threaded": threaded, "dask": spread,
            "s_muladd": serial / float(costs.sum()), "s_task": s_task, "s_byte": s_byte,
            "blocks": dask_backend.block_bounds(costs, workers).size - 1}


def predict(workers, s_muladd, s_task, s_byte):
    """(seconds, blocks, scatter seconds) of one central gradient at LARGE on ``workers`` workers."""
    from fastgrad import dask_backend
    sizes, n = LARGE
    costs = dask_backend.entry_costs(sizes, n, "incremental")
    compute = float(costs.sum()) * s_muladd
    blocks = dask_backend.block_bounds(costs, workers).size - 1
    n_params = costs.size
    nbytes = 8 * (n_params + n * (sizes[0] + sizes[-1]))
    scatter = workers * nbytes * s_byte
    return scatter + compute / workers * (1 + workers / blocks) + blocks * s_task, blocks, scatter, compute


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="local worker processes to measure with")
    parser.add_argument("--repeat", type=int, default=5, help="timings per measurement (the median is used)")
    parser.add_argument("--bandwidth", type=float, default=None,
                        help="bytes/s from the client to a worker for the projection (default: as measured here)")
    args = parser.parse_args()
    import distributed
    with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        m = measure(client, args.repeat)
    s_byte = 1.0 / args.bandwidth if args.bandwidth else m["s_byte"]
    sizes, n = SIZE
    print(f"Measured on a LocalCluster of {m['workers']} single-threaded workers (medians of {args.repeat}):\n")
    print("| measure | value |\n|---|---:|")
    print(f"| serial kernel, per multiply-add of the cost model | {m['s_muladd'] * 1e9:.2f} ns |")
    print(f"| one task (scheduler round trip, per task of 200) | {m['s_task'] * 1e3:.2f} ms |")
    print(f"| broadcasting 32 MB, per byte and worker | {m['s_byte'] * 1e9:.2f} ns ({1e-9 / m['s_byte']:.2f} GB/s) |")
    print(f"| gradient at {sizes} n={n}: numba (1 thread) | {m['serial']:.2f} s |")
    print(f"| the same, numba-parallel ({m['workers']} threads) | {m['threaded']:.2f} s |")
    print(f"| the same, dask ({m['workers']} workers, {m['blocks']} blocks) | {m['dask']:.2f} s "
          f"({m['threaded'] / m['dask']:.2f}x numba-parallel's speed) |")
    sizes, n = LARGE
    print(f"\nProjected: one central gradient of {sizes} on n={n}"
          + (f", network {args.bandwidth / 1e9:g} GB/s" if args.bandwidth else ", bandwidth as measured") + ":\n")
    print("| workers | blocks | scatter | total | speed-up over 1 worker |\n|---:|---:|---:|---:|---:|")
    one, *_ = predict(1, m["s_muladd"], m["s_task"], s_byte)
    for workers in (1, 8, 64, 512):
        total, blocks, scatter, compute = predict(workers, m["s_muladd"], m["s_task"], s_byte)
        print(f"| {workers} | {blocks} | {scatter:.2g} s | {_hours(total)} | {one / total:.0f}x |")


def _hours(seconds):
    if seconds >= 3600:
        return f"{seconds / 3600:.2g} h"
    return f"{seconds / 60:.2g} min" if seconds >= 60 else f"{seconds:.2g} s"


if __name__ == "__main__":
    main()
