"""Compiled training chunks: many optimisation steps per call, stopping at a non-finite loss.

Each chunk records the loss of every step before its update. When a loss exceeds
``limit`` (or is NaN) or a gradient is not finite, theta is put back to the last
weights whose loss was within the limit and the chunk returns early: the return
value is the number of good steps (== steps when nothing went wrong). ``last_good``
is owned by the caller and carried from chunk to chunk: it holds the weights before
the last good step's update.

Templates: besides ``hidden``, ``output``, ``loss`` and ``fun`` (the loss at theta),
``ANALYTIC`` is bound to True (backprop) or False, and then ``differences`` to a difference
job (incremental or full, serial or parallel), which the numerical step runs through
``quotients.central``. The branch on the constant ANALYTIC is removed before numba types the
code, so a kernel compiles one way of taking the gradient only. ``optimizer`` may be bound to
a module of ``optimizers/`` (its ``update`` is pasted); unbound, it is plain descent.
"""
import math

import numpy as np

from .backprop import backprop
from .any_function import pair_difference
from .forward import loss_at
from .incremental import workspace_size
from .jit import helper
from .layers import cache_size
from .optimizers import sgd as optimizer  # the template's own; specialise() may bind another
from .quotients import central
from .specialise import entry

ANALYTIC = None  # bound per configuration by specialise()


@helper
def _all_finite(x):
    for v in x:
        if not math.isfinite(v):
            return False
    return True


@helper
def _gather(AT, columns, out):
    """out[:, k] = AT[:, columns[k]]: a batch's samples of transposed inputs or targets."""
    for j in range(AT.shape[0]):
        for k in range(columns.shape[0]):
            out[j, k] = AT[j, columns[k]]


@helper
def _copy(source, target):
    """target[:] = source (a loop: slice assignment compiles numpy's broadcasting errors)."""
    for i in range(source.shape[0]):
        target[i] = source[i]


@entry
def gradient_steps(theta, layout, XT, YT, eta, h, base, batches, n_shares, limit, last_good, losses, settings,
                   state):
    """losses.size steps of the optimizer's update of theta from g(theta) (plain descent:
    theta <- theta - eta g), with g by backprop (ANALYTIC) or central differences
    g_q = (E(theta + s_q e_q) - E(theta - s_q e_q)) / 2 s_q, s_q = h, or where h = 0 the
    default rule s_q = base max(1, |theta_q|).

    ``batches`` is (steps, batch) sample indices for minibatches, or (0, 0) for the full batch;
    ``settings`` and ``state`` are the optimizer's (optimizers/).
    """
    steps = losses.shape[0]
    minibatch = batches.shape[0] > 0
    nb = batches.shape[1] if minibatch else XT.shape[1]
    XbT = np.empty((XT.shape[0], nb)) if minibatch else XT
    YbT = np.empty((YT.shape[0], nb)) if minibatch else YT
    cache = np.empty(cache_size(layout, nb))
    P = theta.shape[0]
    grad, entries, hs = np.empty(P), np.empty(P, dtype=np.int64), np.empty(P)  # hs: the steps' scratch
    for q in range(P):  # a loop: numpy's arange compiles about 0.3 s more, cold (with full)
        entries[q] = q
    work = np.empty(0 if ANALYTIC else workspace_size(layout, nb))  # the incremental job's, for every step
    for s in range(steps):
        if minibatch:
            _gather(XT, batches[s], XbT)
            _gather(YT, batches[s], YbT)
        if ANALYTIC:
            loss = backprop(theta, layout, XbT, YbT, cache, grad)
        else:
            loss = central(theta, layout, XbT, YbT, h, base, entries, n_shares, work, hs, grad)
        if not (loss <= limit and _all_finite(grad)):
            _copy(last_good, theta)
            return s
        losses[s] = loss
        _copy(theta, last_good)
        optimizer.update(theta, grad, eta, settings, state)
    return steps


@entry
def coordinate_sweeps(theta, layout, XT, YT, eta, h, limit, last_good, losses):
    """losses.size sweeps of the textbook's update: for q = 0..P-1 in order,
    theta_q <- theta_q - eta (E(theta + h e_q) - E(theta - h e_q)) / (2h), with the
    entries before q already updated. losses[s] is E(theta) at the start of sweep s.
    """
    cache = np.empty(cache_size(layout, XT.shape[1]))
    for s in range(losses.shape[0]):
        loss = loss_at(theta, layout, XT, YT, cache)
        if not loss <= limit:
            _copy(last_good, theta)
            return s
        losses[s] = loss
        _copy(theta, last_good)
        for q in range(theta.shape[0]):
            g = pair_difference((layout, XT, YT, cache), theta, q, h) / (2.0 * h)
            if not math.isfinite(g):
                _copy(last_good, theta)
                return s
            theta[q] -= eta * g
    return losses.shape[0]
