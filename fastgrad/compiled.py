"""Running the compiled kernels: thread count, runtime facts, and compile errors kept from users."""
import os

import numba
import numpy as np
from numba.core.errors import NumbaError


class KernelError(RuntimeError):
    """A compiled kernel could not be built; the message says which and suggests a fallback."""


def call(kernel, *args):
    """kernel(*args), turning a numba compile failure into a one-line KernelError."""
    try:
        return kernel(*args)
    except NumbaError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        name = getattr(kernel, "__name__", repr(kernel))
        raise KernelError(
            f"compiling kernel {name!r} failed ({type(exc).__name__}: {first}); "
            "backend='numpy' runs without compiled code") from None


def set_num_threads(n):
    """Use ``n`` threads (1 .. the number numba started with) for the parallel backends."""
    limit = numba.config.NUMBA_NUM_THREADS
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= limit:
        raise ValueError(f"threads: expected an integer from 1 to {limit}, got {n!r}")
    numba.set_num_threads(int(n))


def get_num_threads():
    """Threads the parallel backends use now."""
    return numba.get_num_threads()


@numba.njit(parallel=True, cache=True)
def _touch_pool(x):
    total = 0.0
    for i in numba.prange(x.shape[0]):
        total += x[i]
    return total


def threading_layer():
    """Numba's threading layer (starting the pool once if no parallel code has run yet)."""
    try:
        return numba.threading_layer()
    except ValueError:
        call(_touch_pool, np.ones(2))
        return numba.threading_layer()


def _entry_kernels():
    """The kernels a gradient or a training run starts with (those worth having cached)."""
    from .kernels import backprop, finite_diff, incremental, training
    return [backprop.backprop, finite_diff.central_gradient_serial, finite_diff.central_gradient_parallel,
            incremental.incremental_gradient_serial, incremental.incremental_gradient_parallel,
            training.gradient_steps, training.coordinate_sweeps]


def cache_status():
    """(cached, total, directory): how many entry kernels have an on-disk cache index."""
    kernels = _entry_kernels()
    cached, directory = 0, "(none)"
    for k in kernels:
        try:
            index = k._cache._cache_file._index_path  # numba internals: read only, never required
        except AttributeError:
            continue
        directory = os.path.dirname(index)
        cached += os.path.exists(index)
    return cached, len(kernels), directory


def warm_up():
    """Compile (or load from the cache) every entry kernel on a tiny problem; return seconds."""
    import time

    from .gradients.analytic import analytic_gradient
    from .gradients.numerical import numerical_gradient
    from .model import MLP
    from .train import train
    start = time.perf_counter()
    net, X, Y = MLP([1, 2, 1], seed=0), np.zeros((2, 1)), np.zeros((2, 1))
    analytic_gradient(net, X, Y)
    for backend in ("numba", "numba-parallel"):
        for strategy in ("full", "incremental"):
            numerical_gradient(net, X, Y, backend=backend, strategy=strategy)
    train(net, X, Y, steps=1, eta=1e-3)
    train(net, X, Y, steps=1, eta=1e-3, update="coordinate")
    return time.perf_counter() - start


def runtime_info():
    """Versions, CPU count, threads, threading layer and the kernel cache location."""
    import platform

    from . import __version__
    return {
        "fastgrad": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "cpu_count": os.cpu_count(),
        "num_threads": get_num_threads(),
        "max_threads": numba.config.NUMBA_NUM_THREADS,
        "threading_layer": threading_layer(),
        "kernel_cache": "{} of {} entry kernels cached in {}".format(*cache_status()),
    }
