"""Finite differences over parameter entries by full re-evaluation: the MLP's loss as the
function of ``any_function.evaluations`` (``fun`` bound to ``forward.loss_at``), with a
private forward cache per share, so any number of shares returns bit for bit the result of
one share.
"""
import numpy as np
from numba import prange

from .any_function import evaluations
from .forward import loss_at
from .layers import cache_size
from .specialise import entry


@entry
def full_differences(theta, layout, XT, YT, steps, m, h_table, entries, n_shares, work, out):
    """out[k] = E(theta + s_k e_q) - E(theta - s_k e_q) (m = 1) or E(theta + s_k e_q) - E(theta)
    (m = 0), q = entries[k], s_k = steps[k], by whole forward passes, dealt out in ``n_shares``
    interleaved shares; returns E(theta). (``h_table`` and ``work`` are unused: the signature
    is that of every difference job.)"""
    size = entries.shape[0]
    plus, minus, down = np.empty(size), np.empty(size), -steps
    losses = np.empty(n_shares)
    for b in prange(n_shares):
        args = (layout, XT, YT, np.empty(cache_size(layout, XT.shape[1])))
        losses[b] = loss_at(theta, *args)
        evaluations(args, theta, entries, steps, b, n_shares, plus)
        if m != 0.0:
            evaluations(args, theta, entries, down, b, n_shares, minus)
        for k in range(b, size, n_shares):
            out[k] = plus[k] - (minus[k] if m != 0.0 else losses[b])
    return losses[0]
