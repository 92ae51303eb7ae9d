"""Loops over the coordinates of a user's function f(x, *args): the columns of a Jacobian by
scipy's difference rules, and the upper triangle of a Hessian by central second differences.

The coordinates are dealt out in ``n_shares`` interleaved shares, each with its own copy of
x (perturbed in place and restored), so a parallel loop equals the serial one bit for bit.
A value of f is copied before x changes again (f may return x itself, or a view of it).

Each loop is plain Python, the loop for any callable, and ``compiled(loop, parallel)``
compiles it, specialised to a numba-compiled f passed as an argument, serial or over threads
(prange is range in the serial one): one text for all three. Compiled in memory, not cached
on disk: numba would key the cache by the function object's identity, which a new process
does not share.
"""
import functools

import numpy as np
from numba import njit, prange, types
from numba.extending import overload


@functools.cache
def compiled(loop, parallel):
    """``loop`` compiled (numpy's error model, as the other kernels), over threads if ``parallel``."""
    return njit(parallel=parallel, error_model="numpy")(loop)


def values(v):
    """A value of f as a new 1-D array (``np.atleast_1d``, copied)."""
    return np.atleast_1d(v).copy()


@overload(values)
def _compiled_values(v):
    if isinstance(v, types.Number):
        return lambda v: np.full(1, v)
    if isinstance(v, types.Array) and v.ndim == 1:
        return lambda v: v.copy()
    return None


def forward_columns(fun, args, x0, f0, h, coordinates, n_shares, JT):
    """JT[k] = (f(x0 + h_i e_i) - f0) / dx_i, i = coordinates[k], dx_i = (x0_i + h_i) - x0_i
    (scipy's "2-point"; a negative h_i steps backward)."""
    for b in prange(n_shares):
        x = x0.copy()
        for k in range(b, coordinates.shape[0], n_shares):
            i = coordinates[k]
            x[i] = x0[i] + h[i]
            f1 = values(fun(x, *args))
            JT[k, :] = (f1 - f0) / (x[i] - x0[i])
            x[i] = x0[i]


def central_columns(fun, args, x0, f0, h, one_sided, coordinates, n_shares, JT):
    """scipy's "3-point": JT[k] = (f(x0 + h_i e_i) - f(x0 - h_i e_i)) / dx_i, i = coordinates[k],
    dx_i the difference of the two points as floating point takes them; where ``one_sided`` (a
    bound within reach), (-3 f0 + 4 f(x0 + h_i e_i) - f(x0 + 2 h_i e_i)) / ((x0_i + 2 h_i) - x0_i)."""
    for b in prange(n_shares):
        x = x0.copy()
        for k in range(b, coordinates.shape[0], n_shares):
            i = coordinates[k]
            if one_sided[i]:
                x[i] = x0[i] + h[i]
                f1 = values(fun(x, *args))
                x[i] = x0[i] + 2 * h[i]
                f2 = values(fun(x, *args))
                JT[k, :] = (-3.0 * f0 + 4 * f1 - f2) / (x[i] - x0[i])
            else:
                x[i] = x0[i] - h[i]
                lower = x[i]
                f1 = values(fun(x, *args))
                x[i] = x0[i] + h[i]
                f2 = values(fun(x, *args))
                JT[k, :] = (f2 - f1) / (x[i] - lower)
            x[i] = x0[i]


def complex_columns(fun, args, x0, h, coordinates, n_shares, JT):
    """JT[k] = Im f(x0 + i h_i e_i) / h_i, i = coordinates[k] (scipy's "cs", the complex step)."""
    for b in prange(n_shares):
        x = x0.astype(np.complex128)
        for k in range(b, coordinates.shape[0], n_shares):
            i = coordinates[k]
            x[i] = x0[i] + h[i] * 1j
            JT[k, :] = values(fun(x, *args)).imag / h[i]
            x[i] = x0[i]


def hessian_rows(fun, args, x0, f0, h, n_shares, H):
    """H[i, j], j >= i, of a scalar f by central second differences with steps h (exact in
    floating point: x0 +- h is formed without rounding error by the caller's choice of h):

        H_ii = (f(x + 2h_i e_i) - 2 f0 + f(x - 2h_i e_i)) / (4 h_i^2)
        H_ij = (f(x + h_i e_i + h_j e_j) - f(x + h_i e_i - h_j e_j)
                - f(x - h_i e_i + h_j e_j) + f(x - h_i e_i - h_j e_j)) / (4 h_i h_j)
    """
    n = x0.shape[0]
    for b in prange(n_shares):
        x = x0.copy()
        for i in range(b, n, n_shares):
            x[i] = x0[i] + 2 * h[i]
            up = fun(x, *args)
            x[i] = x0[i] - 2 * h[i]
            down = fun(x, *args)
            H[i, i] = (up - 2.0 * f0 + down) / (4.0 * h[i] * h[i])
            for j in range(i + 1, n):
                corners = 0.0
                for si in (1.0, -1.0):
                    x[i] = x0[i] + si * h[i]
                    for sj in (1.0, -1.0):
                        x[j] = x0[j] + sj * h[j]
                        corners += si * sj * fun(x, *args)
                    x[j] = x0[j]
                H[i, j] = corners / (4.0 * h[i] * h[j])
            x[i] = x0[i]
