"""Compiled finite-difference loops over parameter entries, serial and parallel.

Every entry q is computed by the same call, ``central_difference``, on a
scratch copy of theta that is restored exactly afterwards, so the parallel loop
returns bit-for-bit the serial loop's result whatever the thread count.
"""
import numpy as np
from numba import prange

from .forward import cache_size, loss_at
from .jit import kernel


@kernel
def central_difference(theta, q, h, layout, X, Y, loss_code, cache):
    """(E(theta + h e_q) - E(theta - h e_q)) / (2h); theta[q] is restored on return."""
    x0 = theta[q]
    theta[q] = x0 + h
    plus = loss_at(theta, layout, X, Y, loss_code, cache)
    theta[q] = x0 - h
    minus = loss_at(theta, layout, X, Y, loss_code, cache)
    theta[q] = x0
    return (plus - minus) / (2.0 * h)


@kernel
def _difference_share(theta, layout, X, Y, loss_code, h, entries, first, stride, grad):
    """grad[k] for k = first, first + stride, ..., on a private copy of theta and cache."""
    scratch = theta.copy()
    cache = np.empty(cache_size(layout, X.shape[0]))
    for k in range(first, entries.shape[0], stride):
        grad[k] = central_difference(scratch, entries[k], h, layout, X, Y, loss_code, cache)


@kernel
def central_gradient_serial(theta, layout, X, Y, loss_code, h, entries):
    """Central differences for theta[entries], one entry after another."""
    grad = np.empty(entries.shape[0])
    _difference_share(theta, layout, X, Y, loss_code, h, entries, 0, 1, grad)
    return grad


@kernel(parallel=True)
def central_gradient_parallel(theta, layout, X, Y, loss_code, h, entries, n_shares):
    """Central differences for theta[entries], dealt out in ``n_shares`` interleaved shares
    over threads; each share owns its scratch theta and cache, allocated once."""
    grad = np.empty(entries.shape[0])
    for b in prange(n_shares):
        _difference_share(theta, layout, X, Y, loss_code, h, entries, b, n_shares, grad)
    return grad
