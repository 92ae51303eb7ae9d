"""Complex-step derivatives: g_q = Im E(theta + i h e_q) / h.

No difference of two losses is formed, so there is no cancellation and h can be tiny
(1e-20): the result is exact to rounding. It needs every function on the way to be
analytic (holomorphic): tanh, sigmoid, identity, softmax with cross-entropy, squared
errors written as (o - y)^2, not |o - y|^2. relu is refused before reaching here.
Templates: ``hidden``, ``output`` and ``loss`` are bound per configuration.
"""
import numpy as np
from numba import prange

from .codes import ACTIVATION
from .layers import layer_weights
from .specialise import entry, template

hidden = output = loss = None  # bound per configuration by specialise()


@template
def complex_loss(theta, layout, XT, YT):
    """E(theta) for a complex theta, by the same equations as the real forward pass."""
    n = XT.shape[1]
    last = layout.shape[0] - 1
    A = XT.astype(np.complex128)
    for l in range(last + 1):
        W = layer_weights(theta, layout, l)
        code = layout[l, ACTIVATION]
        Z = np.empty((W.shape[1], n), dtype=np.complex128)
        for j in range(W.shape[1]):
            for i in range(n):
                s = W[0, j]
                for k in range(A.shape[0]):
                    s += A[k, i] * W[k + 1, j]
                Z[j, i] = hidden.complex_value(code, s) if l < last else output.complex_value(code, s)
        A = Z
    total = 0.0j
    for i in range(n):
        total += loss.complex_sample(A, YT, i)
    return total * loss.factor(n, YT.shape[0])


@template
def _share(theta, layout, XT, YT, steps, entries, first, stride, out):
    work = theta.astype(np.complex128)
    for k in range(first, entries.shape[0], stride):
        q = entries[k]
        work[q] = theta[q] + 1j * steps[k]
        out[k] = complex_loss(work, layout, XT, YT).imag / steps[k]
        work[q] = theta[q]


@entry
def complex_step(theta, layout, XT, YT, steps, entries, n_shares, out):
    """out[k] = Im E(theta + i s_k e_q) / s_k, q = entries[k], dealt out in ``n_shares``
    interleaved shares; returns E(theta)."""
    for b in prange(n_shares):
        _share(theta, layout, XT, YT, steps, entries, b, n_shares, out)
    return complex_loss(theta.astype(np.complex128), layout, XT, YT).real
