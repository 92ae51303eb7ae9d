"""Compiled forward pass and loss, on one flat, transposed cache.

The cache holds every layer's pre-activations Z_l and activations A_l as (n_out, n)
blocks — unit j of layer l at row j, the samples contiguous, so that loops over samples
vectorise — then workspace:

    [ Z_1 .. Z_L | A_1 .. A_L | two (width, n) delta blocks | n int64 bits ]

A_l = f_l(Z_l) for hidden layers; for the output layer A_L = o = f_L(Z_L), or the softmax
probabilities when the loss is cross-entropy. Inputs and targets come transposed too:
XT (d, n) and YT (p, n).
"""
import math

import numpy as np

from .codes import (ACTIVATION, CACHE_OFFSET, CROSS_ENTROPY, MSE, N_IN, N_OUT, RELU, SIGMOID,
                    SOFTMAX, SQUARED, TANH, THETA_OFFSET)
from .elementary import sigmoid_into, tanh_into
from .jit import kernel


@kernel
def width(layout):
    """The widest layer's output count."""
    w = 0
    for l in range(layout.shape[0]):
        w = max(w, layout[l, N_OUT])
    return w


@kernel
def units(layout):
    """Output units of all layers together (the rows of Z, and of A)."""
    last = layout.shape[0] - 1
    return layout[last, CACHE_OFFSET] + layout[last, N_OUT]


@kernel
def cache_size(layout, n):
    """Length of the cache for n samples (see the module docstring)."""
    return n * (2 * units(layout) + 2 * width(layout) + 1)


@kernel
def layer_weights(theta, layout, l):
    """Layer l's (n_in+1, n_out) view of theta, bias row first."""
    start = layout[l, THETA_OFFSET]
    return theta[start:start + (layout[l, N_IN] + 1) * layout[l, N_OUT]].reshape((layout[l, N_IN] + 1,
                                                                                   layout[l, N_OUT]))


@kernel
def z_rows(cache, layout, l, n):
    """Layer l's pre-activations, (n_out, n)."""
    start = n * layout[l, CACHE_OFFSET]
    return cache[start:start + n * layout[l, N_OUT]].reshape((layout[l, N_OUT], n))


@kernel
def a_rows(cache, layout, l, n):
    """Layer l's activations, (n_out, n)."""
    start = n * (units(layout) + layout[l, CACHE_OFFSET])
    return cache[start:start + n * layout[l, N_OUT]].reshape((layout[l, N_OUT], n))


@kernel
def delta_rows(cache, layout, which, rows, n):
    """Delta block ``which`` (0 or 1) of the workspace, (rows, n)."""
    start = n * (2 * units(layout) + which * width(layout))
    return cache[start:start + rows * n].reshape((rows, n))


@kernel
def bits_of(cache, layout, n):
    """The n int64 scratch values at the end of the cache."""
    start = n * (2 * units(layout) + 2 * width(layout))
    return cache[start:start + n].view(np.int64)


@kernel
def activate_into(code, z, out, bits):
    """out = f(z) for a contiguous 1-D z (vectorised; ``bits``: int64 scratch of z's length)."""
    if code == TANH:
        tanh_into(z, out, bits)
    elif code == SIGMOID:
        sigmoid_into(z, out, bits)
    elif code == RELU:
        for i in range(z.shape[0]):
            out[i] = z[i] if z[i] > 0.0 else 0.0
    else:
        out[:] = z


@kernel
def _softmax_columns(Z, A):
    """A[:, i] = softmax(Z[:, i]), shifted by the column's maximum."""
    p, n = Z.shape
    for i in range(n):
        top = Z[0, i]
        for j in range(1, p):
            top = max(top, Z[j, i])
        s = 0.0
        for j in range(p):
            A[j, i] = math.exp(Z[j, i] - top)
            s += A[j, i]
        for j in range(p):
            A[j, i] /= s


@kernel
def forward(theta, layout, XT, cache):
    """Fill Z and A: z_l = W_l[0] + W_l[1:]^T a_(l-1) per sample, a_l = f_l(z_l), a_0 = x."""
    n = XT.shape[1]
    bits = bits_of(cache, layout, n)
    last = layout.shape[0] - 1
    IN = XT
    for l in range(last + 1):
        W = layer_weights(theta, layout, l)
        Z, A = z_rows(cache, layout, l, n), a_rows(cache, layout, l, n)
        for j in range(Z.shape[0]):
            for i in range(n):
                Z[j, i] = W[0, j]
            for r in range(IN.shape[0]):
                w = W[r + 1, j]
                for i in range(n):
                    Z[j, i] += IN[r, i] * w
        code = layout[l, ACTIVATION]
        if code == SOFTMAX:
            _softmax_columns(Z, A)
        else:
            for j in range(Z.shape[0]):
                activate_into(code, Z[j], A[j], bits)
        IN = A


@kernel
def loss_scale(loss_code, n, p):
    """The factor in front of the sum: 1/n, or 1/(n p) for "mse"."""
    if loss_code == MSE:
        return 1.0 / (n * p)
    return 1.0 / n


@kernel
def cached_loss(layout, loss_code, YT, cache):
    """E(theta) from a filled cache (the equations are in fastgrad.losses), summed over samples
    with Neumaier's compensation. Cross-entropy uses log-sum-exp of the logits Z_L."""
    p, n = YT.shape
    last = layout.shape[0] - 1
    Z, A = z_rows(cache, layout, last, n), a_rows(cache, layout, last, n)
    total = 0.0
    carry = 0.0
    for i in range(n):
        s = 0.0
        if loss_code == CROSS_ENTROPY:
            top = Z[0, i]
            for j in range(1, p):
                top = max(top, Z[j, i])
            e = 0.0
            for j in range(p):
                e += math.exp(Z[j, i] - top)
            lse = top + math.log(e)
            for j in range(p):
                s += YT[j, i] * (lse - Z[j, i])
        else:
            for j in range(p):
                r = A[j, i] - YT[j, i]
                s += r * r
        t = total + s
        carry += (total - t) + s if abs(total) >= abs(s) else (s - t) + total
        total = t
    half = 0.5 if loss_code == SQUARED else 1.0
    return half * loss_scale(loss_code, n, p) * (total + carry)


@kernel
def loss_at(theta, layout, XT, YT, loss_code, cache):
    """E(theta): a forward pass into ``cache`` followed by the loss."""
    forward(theta, layout, XT, cache)
    return cached_loss(layout, loss_code, YT, cache)


@kernel
def output_delta(layout, loss_code, YT, cache, D):
    """D = dE/dZ_L, (p, n), from a filled cache.

    squared: (1/n)(o - y) f'(z); mse: 2/(n p)(o - y) f'(z);
    cross-entropy with softmax: (1/n)(softmax(z) sum_j y_j - y).
    """
    p, n = YT.shape
    last = layout.shape[0] - 1
    A = a_rows(cache, layout, last, n)
    scale = loss_scale(loss_code, n, p)
    if loss_code == CROSS_ENTROPY:
        for i in range(n):
            mass = 0.0
            for j in range(p):
                mass += YT[j, i]
            for j in range(p):
                D[j, i] = scale * (A[j, i] * mass - YT[j, i])
        return
    factor = scale if loss_code == SQUARED else 2.0 * scale
    sigmoid = layout[last, ACTIVATION] == SIGMOID
    for j in range(p):
        for i in range(n):
            o = A[j, i]
            D[j, i] = factor * (o - YT[j, i]) * (o * (1.0 - o) if sigmoid else 1.0)
