"""Analytic gradient by backpropagation, with numpy matrix products or the compiled kernel.

With D_L = dE/dz_L (see ``fastgrad.losses``) and a_0 = X, for l = L..1:
    grad W_l = [1, a_(l-1)]^T D_l,    D_(l-1) = (D_l W_l[1:]^T) * f'_(l-1).
"""
from __future__ import annotations

import functools
from math import isfinite

import numpy as np
from numpy.typing import ArrayLike

from .. import activations, losses, policy, runtime
from ..model import MLP
from ..problem import gradient_buffer, problem
from ..validation import choice


def analytic_gradient(net: MLP, X: ArrayLike, Y: ArrayLike, loss: str | None = None,
                      backend: str = policy.NUMBA) -> np.ndarray:
    """dE/dtheta by backpropagation.

    Parameters
    ----------
    net : MLP
    X : array (n, d)
    Y : array (n, p)
    loss : {"squared", "mse", "cross-entropy"} or None
        None picks ``default_loss(net)``.
    backend : {"numba", "numpy"}
        "numba" deals each layer's gradient and deltas out over threads where that pays off
        and multiplies by products blocked in registers for large problems (both decided by
        ``fastgrad.policy``); the same bits either way.

    Returns
    -------
    ndarray (P,)
        Aligned with ``net.theta``; ``net.unflatten(g)`` gives per-layer arrays.
    """
    return gradient_of(problem(net, X, Y, loss), backend)


def gradient_of(prob, backend=policy.NUMBA, out=None):
    """``analytic_gradient`` of a Problem, into ``out`` if given; planned (``Problem.plan``), so
    a repeated call goes straight to the kernel."""
    options = ("analytic", backend)
    plan = prob.plan(options)
    if plan is None:
        by_numpy = choice("backend", backend, policy.ANALYTIC_BACKENDS) == policy.NUMPY
        parallel = policy.backprop_parallel(prob.X.shape[0], prob.net.n_params)
        plan = prob.remember(options, _by_numpy if by_numpy else
                             functools.partial(_compiled, None if parallel else prob.kernel("backprop", False, prob.blocked)))
    return plan(prob, out)


def _by_numpy(prob, out):
    """Backprop by numpy into ``out`` or a new array."""
    grad = gradient_buffer(prob.net, out)
    grad[...] = numpy_backprop(prob)
    return grad


def _compiled(serial, prob, out):
    """The compiled backprop into ``out`` or a new array: the ``serial`` kernel, or where threads
    pay off (serial is None) the parallel one while there are threads and the cores are not
    contended (``policy.contended``)."""
    net = prob.net
    grad = gradient_buffer(net, out)
    if serial is None:
        parallel = runtime.get_num_threads() > 1 and not policy.contended()
    kernel = serial if serial is not None else prob.kernel("backprop", parallel, prob.blocked)
    if not isfinite(runtime.call(kernel, net.theta, net.layout, prob.XT, prob.YT, prob.cache, grad)):
        prob.check_weights()
    return grad


def numpy_backprop(prob):
    """Backpropagation by numpy matrix products for a validated Problem."""
    net = prob.net
    inputs, Z = net.forward_layers(prob.X)
    D = losses.delta(prob.loss_name, Z, prob.Y, net.output)
    grads = [None] * len(net.weights)
    for l in range(len(net.weights) - 1, -1, -1):
        A = inputs[l]
        grads[l] = np.vstack([D.sum(axis=0), A.T @ D])
        if l > 0:
            below = net.hidden[l - 1]
            Z = None if isinstance(below, str) else net.weights[l - 1][0] + inputs[l - 1] @ net.weights[l - 1][1:]
            D = (D @ net.weights[l][1:].T) * activations.slope(below, A, Z)
    return np.concatenate([g.ravel() for g in grads])
