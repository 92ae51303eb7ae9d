"""Finite differences over parameter entries by full re-evaluation.

Every entry q is computed by the same call, ``difference``, on a scratch copy of theta
that is restored exactly afterwards, so any number of shares (threads) returns bit for
bit the result of one share.
"""
import numpy as np
from numba import prange

from .forward import loss_at
from .layers import cache_size
from .specialise import entry, template


@template
def difference(theta, q, h, m, base, layout, XT, YT, cache):
    """E(theta + h e_q) - E(theta - h e_q) (m = 1), or E(theta + h e_q) - base (m = 0, base =
    E(theta)); theta[q] is restored on return."""
    x0 = theta[q]
    theta[q] = x0 + h
    plus = loss_at(theta, layout, XT, YT, cache)
    minus = base
    if m != 0.0:
        theta[q] = x0 - h
        minus = loss_at(theta, layout, XT, YT, cache)
    theta[q] = x0
    return plus - minus


@template
def _share(theta, layout, XT, YT, steps, m, entries, first, stride, out):
    """out[k] for k = first, first + stride, ..., on a private copy of theta and cache;
    returns E(theta)."""
    scratch = theta.copy()
    cache = np.empty(cache_size(layout, XT.shape[1]))
    base = loss_at(scratch, layout, XT, YT, cache)
    for k in range(first, entries.shape[0], stride):
        out[k] = difference(scratch, entries[k], steps[k], m, base, layout, XT, YT, cache)
    return base


@entry
def full_differences(theta, layout, XT, YT, steps, m, h_table, entries, n_shares, out):
    """out[k] = E(theta + s_k e_q) - E(theta - m s_k e_q), q = entries[k], by whole forward
    passes, dealt out in ``n_shares`` interleaved shares; returns E(theta). (``h_table`` is
    unused: the signature is that of every difference job.)"""
    losses = np.empty(n_shares)
    for b in prange(n_shares):
        losses[b] = _share(theta, layout, XT, YT, steps, m, entries, b, n_shares, out)
    return losses[0]
