"""Compiled forward pass and loss.

A forward cache is one flat float64 array; layer l's outputs occupy the
row-major (n, n_out) block starting at ``n * layout[l, CACHE_OFFSET]``.
Hidden layers store their activations a_l = f_l(z_l); the output layer stores
its pre-activation z_L, from which the loss applies the output activation.
"""
import math

import numpy as np

from .codes import (ACTIVATION, CACHE_OFFSET, CROSS_ENTROPY, MSE, N_IN, N_OUT, RELU,
                    SIGMOID, SQUARED, TANH, THETA_OFFSET)
from .elementary import sigmoid_into, tanh, tanh_into
from .jit import kernel


@kernel
def activate(code, x):
    """f(x) for one activation code (softmax is applied by the loss, not here)."""
    if code == TANH:
        return tanh(x)
    if code == SIGMOID:
        if x >= 0.0:
            return 1.0 / (1.0 + math.exp(-x))
        e = math.exp(x)
        return e / (1.0 + e)
    if code == RELU:
        return x if x > 0.0 else 0.0
    return x


@kernel
def slope(code, a):
    """f'(z) expressed through a = f(z)."""
    if code == TANH:
        return 1.0 - a * a
    if code == SIGMOID:
        return a * (1.0 - a)
    if code == RELU:
        return 1.0 if a > 0.0 else 0.0
    return 1.0


@kernel
def _width(layout):
    """The widest layer's output count."""
    width = 0
    for l in range(layout.shape[0]):
        width = max(width, layout[l, N_OUT])
    return width


@kernel
def cache_size(layout, n):
    """Length of the forward cache for n samples: every layer's block, then workspace."""
    last = layout.shape[0] - 1
    return n * (layout[last, CACHE_OFFSET] + layout[last, N_OUT] + 2 * _width(layout))


@kernel
def layer_weights(theta, layout, l):
    """Layer l's (n_in+1, n_out) view of theta, bias row first."""
    start = layout[l, THETA_OFFSET]
    n_in = layout[l, N_IN]
    n_out = layout[l, N_OUT]
    return theta[start:start + (n_in + 1) * n_out].reshape((n_in + 1, n_out))


@kernel
def layer_block(buffer, layout, l, n):
    """Layer l's (n, n_out) block of a forward cache."""
    start = n * layout[l, CACHE_OFFSET]
    n_out = layout[l, N_OUT]
    return buffer[start:start + n * n_out].reshape((n, n_out))


@kernel
def affine(A, W, out):
    """out = [1, A] @ W, i.e. out_ij = W_0j + sum_k A_ik W_(k+1)j."""
    n, n_in = A.shape
    n_out = W.shape[1]
    for i in range(n):
        for j in range(n_out):
            s = W[0, j]
            for k in range(n_in):
                s += A[i, k] * W[k + 1, j]
            out[i, j] = s


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
def forward(theta, layout, X, cache):
    """Fill the forward cache: z_l = [1, a_(l-1)] W_l, a_l = f_l(z_l), a_0 = X."""
    n = X.shape[0]
    last = layout.shape[0] - 1
    work = n * (layout[last, CACHE_OFFSET] + layout[last, N_OUT])
    span = n * _width(layout)
    A = X
    for l in range(last + 1):
        out = layer_block(cache, layout, l, n)
        W = layer_weights(theta, layout, l)
        if l == last:
            affine(A, W, out)
        else:
            m = n * layout[l, N_OUT]
            z = cache[work:work + m]
            affine(A, W, z.reshape(out.shape))
            start = n * layout[l, CACHE_OFFSET]
            activate_into(layout[l, ACTIVATION], z, cache[start:start + m],
                          cache[work + span:work + span + m].view(np.int64))
        A = out


@kernel
def log_sum_exp(Z, i):
    """log sum_j exp(Z_ij), shifted by max_j Z_ij so that nothing overflows."""
    p = Z.shape[1]
    top = Z[i, 0]
    for j in range(1, p):
        top = max(top, Z[i, j])
    s = 0.0
    for j in range(p):
        s += math.exp(Z[i, j] - top)
    return top + math.log(s)


@kernel
def sample_loss(Z, Y, i, out_code, loss_code):
    """Sample i's unscaled loss from its output pre-activation Z[i] (rows by index: no views)."""
    p = Z.shape[1]
    s = 0.0
    if loss_code == CROSS_ENTROPY:
        lse = log_sum_exp(Z, i)
        for j in range(p):
            s += Y[i, j] * (lse - Z[i, j])
        return s
    for j in range(p):
        r = activate(out_code, Z[i, j]) - Y[i, j]
        s += r * r
    if loss_code == SQUARED:
        return 0.5 * s
    return s


@kernel
def loss_scale(loss_code, n, p):
    """The factor in front of the sum: 1/n, or 1/(n p) for "mse"."""
    if loss_code == MSE:
        return 1.0 / (n * p)
    return 1.0 / n


@kernel
def output_loss(Z, Y, out_code, loss_code):
    """Loss from the output pre-activations, summed over samples with Neumaier's compensation."""
    n, p = Z.shape
    total = 0.0
    carry = 0.0
    for i in range(n):
        term = sample_loss(Z, Y, i, out_code, loss_code)
        t = total + term
        if abs(total) >= abs(term):
            carry += (total - t) + term
        else:
            carry += (term - t) + total
        total = t
    return (total + carry) * loss_scale(loss_code, n, p)


@kernel
def output_delta(Z, Y, out_code, loss_code, D):
    """D = dE/dZ at the output pre-activation.

    squared: (1/n)(o - y) f'(z); mse: 2/(n p)(o - y) f'(z);
    cross-entropy with softmax: (1/n)(softmax(z) sum_j y_j - y).
    """
    n, p = Z.shape
    scale = loss_scale(loss_code, n, p)
    for i in range(n):
        if loss_code == CROSS_ENTROPY:
            lse = log_sum_exp(Z, i)
            mass = 0.0
            for j in range(p):
                mass += Y[i, j]
            for j in range(p):
                D[i, j] = scale * (math.exp(Z[i, j] - lse) * mass - Y[i, j])
        else:
            factor = scale if loss_code == SQUARED else 2.0 * scale
            for j in range(p):
                o = activate(out_code, Z[i, j])
                D[i, j] = factor * (o - Y[i, j]) * slope(out_code, o)


@kernel
def loss_at(theta, layout, X, Y, loss_code, cache):
    """E(theta): a forward pass into ``cache`` followed by the loss."""
    forward(theta, layout, X, cache)
    last = layout.shape[0] - 1
    Z = layer_block(cache, layout, last, X.shape[0])
    return output_loss(Z, Y, layout[last, ACTIVATION], loss_code)

