"""Complex-step derivatives: g_q = Im E(theta + i h e_q) / h.

No difference of two losses is formed, so there is no cancellation and h can be tiny
(1e-20): the result is exact to rounding. It needs every function on the way to be
analytic (holomorphic): tanh, sigmoid, identity, softmax with cross-entropy, squared
errors written as (o - y)^2, not |o - y|^2. relu is refused before reaching here.
"""
import cmath

import numpy as np
from numba import prange

from .codes import ACTIVATION, CROSS_ENTROPY, N_IN, N_OUT, SIGMOID, SQUARED, TANH, THETA_OFFSET
from .forward import loss_scale
from .jit import kernel


@kernel
def _activate(code, z):
    """f(z) for complex z; identity for identity and for softmax (whose logits the loss uses)."""
    if code == TANH:
        return cmath.tanh(z)
    if code == SIGMOID:
        return 1.0 / (1.0 + cmath.exp(-z))
    return z


@kernel
def complex_loss(theta, layout, X, Y, loss_code):
    """E(theta) for a complex theta, by the same equations as the real forward pass."""
    n = X.shape[0]
    last = layout.shape[0] - 1
    A = X.astype(np.complex128)
    for l in range(last + 1):
        n_in, n_out = layout[l, N_IN], layout[l, N_OUT]
        start = layout[l, THETA_OFFSET]
        W = theta[start:start + (n_in + 1) * n_out].reshape((n_in + 1, n_out))
        Z = np.empty((n, n_out), dtype=np.complex128)
        for i in range(n):
            for j in range(n_out):
                s = W[0, j]
                for k in range(n_in):
                    s += A[i, k] * W[k + 1, j]
                Z[i, j] = _activate(layout[l, ACTIVATION], s)  # softmax: logits, normalised below
        A = Z
    p = A.shape[1]
    total = 0.0 + 0.0j
    for i in range(n):
        if loss_code == CROSS_ENTROPY:
            top = A[i, 0].real
            for j in range(1, p):
                top = max(top, A[i, j].real)
            s = 0.0 + 0.0j
            for j in range(p):
                s += cmath.exp(A[i, j] - top)
            lse = top + cmath.log(s)
            for j in range(p):
                total += Y[i, j] * (lse - A[i, j])
        else:
            for j in range(p):
                r = A[i, j] - Y[i, j]
                total += r * r * (0.5 if loss_code == SQUARED else 1.0)
    return total * loss_scale(loss_code, n, p)


@kernel
def _complex_share(theta, layout, X, Y, loss_code, steps, entries, first, stride, grad):
    work = theta.astype(np.complex128)
    for k in range(first, entries.shape[0], stride):
        q = entries[k]
        work[q] = theta[q] + 1j * steps[k]
        grad[k] = complex_loss(work, layout, X, Y, loss_code).imag / steps[k]
        work[q] = theta[q]


@kernel
def complex_step_serial(theta, layout, X, Y, loss_code, steps, entries):
    """Im E(theta + i s_k e_q) / s_k for every entry, one after another."""
    grad = np.empty(entries.shape[0])
    _complex_share(theta, layout, X, Y, loss_code, steps, entries, 0, 1, grad)
    return grad


@kernel(parallel=True)
def complex_step_parallel(theta, layout, X, Y, loss_code, steps, entries, n_shares):
    """The same, dealt out in ``n_shares`` interleaved shares over threads."""
    grad = np.empty(entries.shape[0])
    for b in prange(n_shares):
        _complex_share(theta, layout, X, Y, loss_code, steps, entries, b, n_shares, grad)
    return grad
