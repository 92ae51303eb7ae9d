"""How the derivatives of any function call it: the point, the function's value, the backend,
the compiled loops and the map-like that spreads Python calls (``workers``), with the dtypes
and exceptions of ``scipy.optimize.approx_derivative``.

dtypes, as scipy: x0 keeps a real floating dtype (float16, float32, float64; anything else
becomes float64) and f is called at points of that dtype; the relative steps use the machine
epsilon of the smaller of x0's and f0's floating dtypes (``epsilon``).
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os

import numpy as np
from numba.core.errors import NumbaError
from numba.core.registry import CPUDispatcher

from . import dask_backend, policy, runtime
from .kernels import specialise
from .validation import choice

FLOATS = (np.float16, np.float32, np.float64)


def point(x0, keep_dtype=False):
    """x0 as a 1-D float64 array of its own (a copy), checked; ``keep_dtype``: float16 and
    float32 stay (scipy's rule)."""
    x = np.asarray(x0)
    if x.dtype.kind not in "iufb":
        raise ValueError(f"x0: expected real numbers, got {x.dtype}")
    dtype = x.dtype if keep_dtype and x.dtype.type in FLOATS else np.float64
    x = np.atleast_1d(x.astype(dtype))
    if x.ndim > 1:
        raise ValueError(f"x0: expected a scalar or a 1-D array, got shape {x.shape}")
    return x


def epsilon(x_dtype, f_dtype):
    """scipy's ``_eps_for_method``: the machine epsilon of x0's dtype, or of f0's where f0 is
    floating and narrower (a float64 x0 with a float32 f gets float32's)."""
    eps = np.finfo(x_dtype).eps
    if np.issubdtype(f_dtype, np.inexact) and np.dtype(f_dtype).itemsize < np.dtype(x_dtype).itemsize:
        eps = np.finfo(f_dtype).eps
    return eps


def stored(x, s):
    """x + s as a point of x's dtype holds it (float32 points round; float64 ones are x + s)."""
    return (x + s).astype(x.dtype, copy=False)


def backend_of(backend, fun, kwargs, workers=None):
    """The backend asked for, or the one that fits ``fun``; compiled backends need a numba
    function; a map-like ``workers`` calls ``fun`` from Python."""
    compiled = isinstance(fun, CPUDispatcher)
    if backend is None:
        return policy.NUMBA_PARALLEL if compiled and not kwargs and not callable(workers) else policy.PYTHON
    choice("backend", backend, policy.DERIVATIVE_BACKENDS)
    if backend in (policy.NUMBA, policy.NUMBA_PARALLEL):
        if not compiled:
            raise ValueError(f"backend: {backend!r} compiles the loop around a numba-compiled fun (@numba.njit); "
                             f"{name_of(fun)} is not one (use backend='python')")
        if kwargs:
            raise ValueError("kwargs: the compiled loop passes positional args only; use args or backend='python'")
        if callable(workers):
            raise ValueError(f"workers: a map-like calls fun from Python, not on backend {backend!r}; give an "
                             "int (threads) or backend='python'")
    return backend


def name_of(fun):
    return getattr(fun, "__name__", None) or type(fun).__name__


class Call:
    """x -> fun(x, *args, **kwargs), x cast to ``dtype`` where real (scipy's wrapper);
    a class, so that a process pool can pickle it."""

    def __init__(self, fun, args=(), kwargs=None, dtype=np.float64):
        if not callable(fun):
            raise ValueError(f"fun: expected a callable, got {type(fun).__name__}")
        self.fun, self.args, self.kwargs, self.dtype = fun, tuple(args), dict(kwargs or {}), dtype

    def __call__(self, x):
        if x.dtype.kind == "f":
            x = x.astype(self.dtype, copy=False)
        return self.fun(x, *self.args, **self.kwargs)


def value(call, x, scalar=False, name="fun"):
    """f(x) as a 1-D float array (f a scalar function when ``scalar``), floating dtypes kept,
    others float64; more than one dimension is scipy's RuntimeError; errors say ``name``."""
    try:
        result = call(x)
    except NumbaError as exc:  # numba compiling f for x0's type: one line of its many
        raise ValueError(f"{name}: numba could not compile it for x0 ({type(exc).__name__}: "
                         f"{runtime.numba_reason(exc)})") from None
    except Exception as exc:
        raise ValueError(f"{name}: raised {type(exc).__name__} at x0: {exc}") from exc
    if scalar and np.ndim(result) != 0:
        raise ValueError(f"{name}: hessian needs a scalar function; {name} returned shape {np.shape(result)}")
    f = np.atleast_1d(np.asarray(result))
    if f.dtype.kind not in "iufb":
        raise TypeError(f"{name}: returned {f.dtype} values; expected real numbers")
    if f.ndim > 1:
        raise RuntimeError(f"`{name}` return value has more than 1 dimension (shape {f.shape}).")
    return f if f.dtype.type in FLOATS else f.astype(np.float64)


def given_value(f0):
    """A given f0 as a 1-D float array (scipy's ValueError beyond one dimension)."""
    f = np.atleast_1d(np.asarray(f0))
    if f.dtype.kind not in "iuf":
        raise ValueError(f"f0: expected real numbers, got {f.dtype}")
    if f.ndim > 1:
        raise ValueError(f"`f0` passed has more than 1 dimension (shape {f.shape}).")
    return f if f.dtype.type in FLOATS else f.astype(np.float64)


def compiled(loop, fun, backend):
    """Template ``loop`` compiled around the numba function ``fun``, over threads for
    "numba-parallel": cached on disk where ``fun`` has a source key (``source_keys.cache``),
    else in memory (see kernels/any_function.py); a failure to compile is a TypeError naming
    ``fun``."""
    kernel = specialise.specialise(loop, (("fun", fun),), parallel=backend == policy.NUMBA_PARALLEL,
                                   cache=fun in specialise.KEYS)

    def run(*arguments):
        try:
            return kernel(*arguments)
        except NumbaError as exc:
            raise TypeError(f"fun: numba could not compile the loop around {name_of(fun)}(x, *args) "
                            f"({runtime.numba_reason(exc)}); backend='python' calls it from Python") from None
    return run


def running(backend, workers=None):
    """The backend a compiled loop runs on now: "numba-parallel" runs serially while other
    processes hold the cores (``policy.contended``; the same bits), unless ``workers`` asked for
    threads."""
    return policy.running(backend) if workers in (None, -1) else backend


def check_workers(workers):
    """``workers`` as scipy takes it: None, an int (-1: every CPU) or a map-like callable."""
    if workers is None or callable(workers):
        return workers
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or not (workers == -1 or workers >= 1):
        raise ValueError(f"workers: expected a positive int, -1 (every CPU) or a map-like callable, got {workers!r}")
    return int(workers)


def shares(backend, workers):
    """Interleaved shares of a compiled loop: ``workers`` threads where given (-1: numba's
    threads now), else one per thread on "numba-parallel"."""
    if backend != policy.NUMBA_PARALLEL:
        return 1
    return policy.shares(backend) if workers in (None, -1) else workers


@contextlib.contextmanager
def threads(backend, workers):
    """numba's threads set to ``workers`` (at most those it started with) while a compiled
    parallel loop runs; restored after."""
    if backend != policy.NUMBA_PARALLEL or workers in (None, -1):
        yield
        return
    before = runtime.get_num_threads()
    runtime.set_num_threads(min(workers, runtime.max_threads()))
    try:
        yield
    finally:
        runtime.set_num_threads(before)


@contextlib.contextmanager
def mapper(workers):
    """scipy's MapWrapper: ``map`` for None or 1, the callable itself, or a process pool's map
    of ``workers`` processes (-1: one per CPU), closed after."""
    if workers is None or workers == 1:
        yield map
    elif callable(workers):
        yield workers
    else:
        with multiprocessing.Pool(os.cpu_count() if workers == -1 else workers) as pool:
            yield pool.map


def serial_backend(fun, kwargs):
    """The serial loop for ``fun``: "numba" for a numba function without kwargs, else "python"."""
    return policy.NUMBA if isinstance(fun, CPUDispatcher) and not kwargs else policy.PYTHON


def cluster_blocks(client, blocks, n):
    """(client, edges): Dask's client (``client``, default its current one) and the edges of
    contiguous blocks of n items, ``blocks`` of them (default 4 per worker thread)."""
    client = dask_backend.find_client(client)
    count = dask_backend.check_blocks(blocks) or dask_backend.BLOCKS_PER_THREAD * dask_backend.worker_threads(client)
    return client, np.unique(np.linspace(0, n, min(count, n) + 1).astype(np.int64))
