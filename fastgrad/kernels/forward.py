"""Compiled forward pass and loss.

A forward cache is one flat float64 array; layer l's outputs occupy the
row-major (n, n_out) block starting at ``n * layout[l, CACHE_OFFSET]``.
Hidden layers store their activations a_l = f_l(z_l); the output layer stores
its pre-activation z_L, from which the loss applies the output activation.
"""
import math

from numba import njit

from .codes import (ACTIVATION, CACHE_OFFSET, CROSS_ENTROPY, IDENTITY, MSE, N_IN, N_OUT, RELU,
                    SIGMOID, SQUARED, TANH, THETA_OFFSET)
from .elementary import tanh


@njit(cache=True)
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


@njit(cache=True)
def slope(code, a):
    """f'(z) expressed through a = f(z)."""
    if code == TANH:
        return 1.0 - a * a
    if code == SIGMOID:
        return a * (1.0 - a)
    if code == RELU:
        return 1.0 if a > 0.0 else 0.0
    return 1.0


@njit(cache=True)
def cache_size(layout, n):
    """Length of the forward cache for n samples."""
    last = layout.shape[0] - 1
    return n * (layout[last, CACHE_OFFSET] + layout[last, N_OUT])


@njit(cache=True)
def layer_weights(theta, layout, l):
    """Layer l's (n_in+1, n_out) view of theta, bias row first."""
    start = layout[l, THETA_OFFSET]
    n_in = layout[l, N_IN]
    n_out = layout[l, N_OUT]
    return theta[start:start + (n_in + 1) * n_out].reshape((n_in + 1, n_out))


@njit(cache=True)
def layer_block(buffer, layout, l, n):
    """Layer l's (n, n_out) block of a forward cache."""
    start = n * layout[l, CACHE_OFFSET]
    n_out = layout[l, N_OUT]
    return buffer[start:start + n * n_out].reshape((n, n_out))


@njit(cache=True)
def dense(A, W, code, out):
    """out = f([1, A] @ W), i.e. out_ij = f(W_0j + sum_k A_ik W_(k+1)j)."""
    n, n_in = A.shape
    n_out = W.shape[1]
    for i in range(n):
        for j in range(n_out):
            s = W[0, j]
            for k in range(n_in):
                s += A[i, k] * W[k + 1, j]
            out[i, j] = activate(code, s)


@njit(cache=True)
def forward(theta, layout, X, cache):
    """Fill the forward cache: z_l = [1, a_(l-1)] W_l, a_l = f_l(z_l), a_0 = X."""
    n = X.shape[0]
    last = layout.shape[0] - 1
    A = X
    for l in range(last + 1):
        out = layer_block(cache, layout, l, n)
        code = layout[l, ACTIVATION] if l < last else IDENTITY
        dense(A, layer_weights(theta, layout, l), code, out)
        A = out


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
def loss_scale(loss_code, n, p):
    """The factor in front of the sum: 1/n, or 1/(n p) for "mse"."""
    if loss_code == MSE:
        return 1.0 / (n * p)
    return 1.0 / n


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
def loss_at(theta, layout, X, Y, loss_code, cache):
    """E(theta): a forward pass into ``cache`` followed by the loss."""
    forward(theta, layout, X, cache)
    last = layout.shape[0] - 1
    Z = layer_block(cache, layout, last, X.shape[0])
    return output_loss(Z, Y, layout[last, ACTIVATION], loss_code)

