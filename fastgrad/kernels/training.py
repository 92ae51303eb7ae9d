"""Compiled training chunks: many optimisation steps per call, stopping at a non-finite loss.

Each chunk records the loss of every step before its update. When a loss exceeds
``limit`` (or is NaN) or a gradient is not finite, theta is put back to the last
weights whose loss was within the limit and the chunk returns early: the return
value is the number of good steps (== steps when nothing went wrong). ``last_good``
is owned by the caller and carried from chunk to chunk: it holds the weights before
the last good step's update.
"""
import math

import numpy as np

from .backprop import backprop
from .finite_diff import central_difference, central_gradient_parallel, central_gradient_serial
from .forward import cache_size, loss_at
from .incremental import incremental_gradient_parallel, incremental_gradient_serial
from .jit import kernel


ANALYTIC = 0
FULL_SERIAL = 1
FULL_PARALLEL = 2
INCREMENTAL_SERIAL = 3
INCREMENTAL_PARALLEL = 4


@kernel
def _all_finite(x):
    for v in x:
        if not math.isfinite(v):
            return False
    return True


@kernel
def _gather(X, Y, rows, Xb, Yb, XbT, YbT):
    """The batch's rows, in sample-major (Xb, Yb) and transposed (XbT, YbT) form."""
    for r in range(rows.shape[0]):
        Xb[r] = X[rows[r]]
        Yb[r] = Y[rows[r]]
        XbT[:, r] = X[rows[r]]
        YbT[:, r] = Y[rows[r]]


@kernel
def gradient_steps(theta, layout, X, Y, loss_code, kind, eta, h, batches, n_shares, limit, last_good,
                   losses):
    """losses.size steps of theta <- theta - eta g(theta).

    g is backprop (kind ANALYTIC) or central differences (full or incremental, serial or parallel).
    ``batches`` is (steps, batch) row indices for minibatches, or (0, 0) for the full batch.
    """
    steps = losses.shape[0]
    minibatch = batches.shape[0] > 0
    nb = batches.shape[1] if minibatch else X.shape[0]
    Xb, Yb = np.empty((nb, X.shape[1])), np.empty((nb, Y.shape[1]))
    XbT, YbT = np.empty((X.shape[1], nb)), np.empty((Y.shape[1], nb))
    if not minibatch:
        _gather(X, Y, np.arange(nb), Xb, Yb, XbT, YbT)
    cache = np.empty(cache_size(layout, nb))
    grad = np.empty_like(theta)
    entries = np.arange(theta.shape[0])
    for s in range(steps):
        if minibatch:
            _gather(X, Y, batches[s], Xb, Yb, XbT, YbT)
        if kind == ANALYTIC:
            loss = backprop(theta, layout, XbT, YbT, loss_code, cache, grad)
        elif kind == INCREMENTAL_SERIAL:
            loss = incremental_gradient_serial(theta, layout, Xb, Yb, loss_code, h, entries, grad)
        elif kind == INCREMENTAL_PARALLEL:
            loss = incremental_gradient_parallel(theta, layout, Xb, Yb, loss_code, h, entries, n_shares, grad)
        else:
            loss = loss_at(theta, layout, XbT, YbT, loss_code, cache)
            if kind == FULL_SERIAL:
                grad[:] = central_gradient_serial(theta, layout, Xb, Yb, loss_code, h, entries)
            else:
                grad[:] = central_gradient_parallel(theta, layout, Xb, Yb, loss_code, h, entries, n_shares)
        if not (loss <= limit and _all_finite(grad)):
            theta[:] = last_good
            return s
        losses[s] = loss
        last_good[:] = theta
        for q in range(theta.shape[0]):
            theta[q] -= eta * grad[q]
    return steps


@kernel
def coordinate_sweeps(theta, layout, X, Y, loss_code, eta, h, limit, last_good, losses):
    """losses.size sweeps of the textbook's update: for q = 0..P-1 in order,
    theta_q <- theta_q - eta (E(theta + h e_q) - E(theta - h e_q)) / (2h), with the
    entries before q already updated. losses[s] is E(theta) at the start of sweep s.
    """
    cache = np.empty(cache_size(layout, X.shape[0]))
    XT, YT = np.ascontiguousarray(X.T), np.ascontiguousarray(Y.T)
    for s in range(losses.shape[0]):
        loss = loss_at(theta, layout, XT, YT, loss_code, cache)
        if not loss <= limit:
            theta[:] = last_good
            return s
        losses[s] = loss
        last_good[:] = theta
        for q in range(theta.shape[0]):
            g = central_difference(theta, q, h, layout, XT, YT, loss_code, cache)
            if not math.isfinite(g):
                theta[:] = last_good
                return s
            theta[q] -= eta * g
    return losses.shape[0]
