"""Compiled finite-difference loops over parameter entries by full re-evaluation, serial
and parallel.

Every entry q is computed by the same call, ``difference``, on a scratch copy of theta
that is restored exactly afterwards, so the parallel loop returns bit-for-bit the serial
loop's result whatever the thread count.
"""
import numpy as np
from numba import prange

from .forward import cache_size, loss_at
from .jit import kernel


@kernel
def difference(theta, q, h, m, base, layout, XT, YT, loss_code, cache):
    """E(theta + h e_q) - E(theta - h e_q) (m = 1), or E(theta + h e_q) - base (m = 0, base =
    E(theta)); theta[q] is restored on return."""
    x0 = theta[q]
    theta[q] = x0 + h
    plus = loss_at(theta, layout, XT, YT, loss_code, cache)
    minus = base
    if m != 0.0:
        theta[q] = x0 - h
        minus = loss_at(theta, layout, XT, YT, loss_code, cache)
    theta[q] = x0
    return plus - minus


@kernel
def central_difference(theta, q, h, layout, XT, YT, loss_code, cache):
    """(E(theta + h e_q) - E(theta - h e_q)) / (2h), on transposed data."""
    return difference(theta, q, h, 1.0, 0.0, layout, XT, YT, loss_code, cache) / (2.0 * h)


@kernel
def _difference_share(theta, layout, XT, YT, loss_code, steps, m, entries, first, stride, out):
    """out[k] for k = first, first + stride, ..., on a private copy of theta and cache."""
    scratch = theta.copy()
    cache = np.empty(cache_size(layout, XT.shape[1]))
    base = loss_at(scratch, layout, XT, YT, loss_code, cache) if m == 0.0 else 0.0
    for k in range(first, entries.shape[0], stride):
        out[k] = difference(scratch, entries[k], steps[k], m, base, layout, XT, YT, loss_code, cache)


@kernel
def differences_serial(theta, layout, X, Y, loss_code, steps, m, entries):
    """E(theta + s_k e_q) - E(theta - m s_k e_q) for every entry, one after another."""
    out = np.empty(entries.shape[0])
    XT, YT = np.ascontiguousarray(X.T), np.ascontiguousarray(Y.T)
    _difference_share(theta, layout, XT, YT, loss_code, steps, m, entries, 0, 1, out)
    return out


@kernel(parallel=True)
def differences_parallel(theta, layout, X, Y, loss_code, steps, m, entries, n_shares):
    """The same, dealt out in ``n_shares`` interleaved shares over threads; each share owns
    its scratch theta and cache, allocated once."""
    out = np.empty(entries.shape[0])
    XT, YT = np.ascontiguousarray(X.T), np.ascontiguousarray(Y.T)
    for b in prange(n_shares):
        _difference_share(theta, layout, XT, YT, loss_code, steps, m, entries, b, n_shares, out)
    return out


@kernel
def central_gradient_serial(theta, layout, X, Y, loss_code, h, entries):
    """Central differences with the step h for theta[entries], serially."""
    return differences_serial(theta, layout, X, Y, loss_code, np.full(entries.shape[0], h), 1.0, entries) / (2.0 * h)


@kernel
def central_gradient_parallel(theta, layout, X, Y, loss_code, h, entries, n_shares):
    """Central differences with the step h for theta[entries], over threads."""
    return differences_parallel(theta, layout, X, Y, loss_code, np.full(entries.shape[0], h), 1.0, entries,
                                n_shares) / (2.0 * h)
