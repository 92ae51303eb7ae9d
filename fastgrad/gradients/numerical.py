"""Numerical gradient by central differences, with a choice of backend and strategy.

    g_q = (E(theta + h e_q) - E(theta - h e_q)) / (2h)

for every parameter q (or a chosen subset). Truncation error is O(h^2) and round-off
about eps |E| / h, so h = 1e-5 balances them for losses of order one. The compiled
backends evaluate the two losses either in "full" (a whole forward pass each) or
"incremental"ly (only what the perturbation changes; see kernels/incremental.py).
"""
import numpy as np

from .. import compiled
from ..kernels.finite_diff import central_gradient_parallel, central_gradient_serial
from ..kernels.incremental import incremental_gradient_parallel, incremental_gradient_serial
from ..problem import problem
from ..validation import choice, positive_number
from .reference import numpy_central_gradient, python_central_gradient

BACKENDS = ("python", "numpy", "numba", "numba-parallel")
STRATEGIES = ("incremental", "full")
KERNELS = {("numba", "full"): central_gradient_serial,
           ("numba-parallel", "full"): central_gradient_parallel,
           ("numba", "incremental"): incremental_gradient_serial,
           ("numba-parallel", "incremental"): incremental_gradient_parallel}


def numerical_gradient(net, X, Y, loss=None, h=1e-5, backend="numba-parallel", entries=None,
                       strategy=None):
    """dE/dtheta by central finite differences.

    Parameters
    ----------
    net : MLP
    X : array (n, d)
    Y : array (n, p)
    loss : {"squared", "mse", "cross-entropy"} or None
        None picks the output's natural loss (cross-entropy after softmax, else squared).
    h : float
        Absolute step, > 0.
    backend : {"numba-parallel", "numba", "numpy", "python"}
        "python": plain Python loops; "numpy": a Python loop over entries with a numpy
        forward pass (the textbook's way); "numba": the loop and the forward pass
        compiled; "numba-parallel": the same with the entries spread over threads, equal
        to "numba" bit for bit.
    entries : array of int or None
        Indices into theta to differentiate; None means all of them.
    strategy : {"incremental", "full"} or None
        For the numba backends: re-evaluate only what each perturbation changes (the
        default), or the whole forward pass. The python and numpy baselines are "full".

    Returns
    -------
    ndarray
        g aligned with ``net.theta`` (or with ``entries`` when given).
    """
    prob = problem(net, X, Y, loss)
    h = positive_number("h", h)
    backend = choice("backend", backend, BACKENDS)
    entries = _entries(entries, net.n_params)
    strategy = check_strategy(strategy, backend)
    if backend == "python":
        return python_central_gradient(prob, h, entries)
    if backend == "numpy":
        return numpy_central_gradient(prob, h, entries)
    args = (net.theta, net.layout, prob.X, prob.Y, prob.loss_code, h, entries)
    if backend == "numba-parallel":
        args += (compiled.get_num_threads(),)
    return compiled.call(KERNELS[(backend, strategy)], *args)


def check_strategy(strategy, backend):
    """The strategy to use: "incremental" by default on numba backends, "full" on the baselines."""
    compiled_backend = backend.startswith("numba")
    if strategy is None:
        return "incremental" if compiled_backend else "full"
    choice("strategy", strategy, STRATEGIES)
    if strategy == "incremental" and not compiled_backend:
        raise ValueError(f"strategy: 'incremental' runs on the numba backends only, not {backend!r}")
    return strategy


def _entries(entries, n_params):
    """Parameter indices as an int64 array, each in [0, n_params)."""
    if entries is None:
        return np.arange(n_params, dtype=np.int64)
    arr = np.asarray(entries)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise ValueError(f"entries: expected a 1-D array of integer indices, got {arr.dtype} shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_params):
        raise ValueError(f"entries: indices must lie in [0, {n_params}), got {arr.min()}..{arr.max()}")
    return arr.astype(np.int64)
