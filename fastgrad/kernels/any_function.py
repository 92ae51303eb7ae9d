"""Loops over the coordinates of a function f(x, *args), the one engine of finite differences by
re-evaluation: the user's functions (``fastgrad.derivatives``) and the MLP's "full" strategy
(``finite_diff.py``, f the net's loss) both run ``evaluations``.

``fun`` is a free name, bound per function by ``specialise`` (see specialise.py): compiled and
cached on disk for the MLP's loss, compiled in memory for a user's numba function (numba
would key a disk cache by the function's name, which a changed or another function may
share), or run as plain Python by ``bound`` for any callable. One text serves all three.

Coordinates are dealt out in ``n_shares`` interleaved shares, each with its own copy of x
(perturbed in place and restored), so a parallel loop equals the serial one bit for bit.
"""
from numba import prange

from .specialise import template

fun = None  # bound per function by specialise()


@template
def evaluations(args, x0, coordinates, steps, first, stride, F):
    """F[k] = f(x0 + steps[k] e_i, *args), i = coordinates[k], for k = first, first + stride, ...
    (a row of F for a vector f, an entry for a scalar one; copied before x changes again)."""
    x = x0.copy()
    for k in range(first, coordinates.shape[0], stride):
        i = coordinates[k]
        x[i] = x0[i] + steps[k]
        F[k] = fun(x, *args)
        x[i] = x0[i]


@template
def shared_evaluations(args, x0, coordinates, steps, n_shares, F):
    """``evaluations`` of every k, in ``n_shares`` shares (over threads where compiled parallel)."""
    for b in prange(n_shares):
        evaluations(args, x0, coordinates, steps, b, n_shares, F)


@template
def pair_difference(args, x, i, s):
    """f(x + s e_i) - f(x - s e_i) of a scalar f, on x itself, restored on return (the
    textbook's coordinate-wise update takes one coordinate at a time)."""
    xi = x[i]
    x[i] = xi + s
    plus = fun(x, *args)
    x[i] = xi - s
    minus = fun(x, *args)
    x[i] = xi
    return plus - minus


@template
def hessian_rows(args, x0, f0, h, n_shares, H):
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
