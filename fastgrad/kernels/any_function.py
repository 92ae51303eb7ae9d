"""Loops over the coordinates of a function f(x, *args), the one engine of finite differences by
re-evaluation: the user's functions (``fastgrad.derivatives``) and the MLP's "full" strategy
(``finite_diff.py``, f the net's loss) both run ``evaluations``.

``fun`` is a free name, bound per function by ``specialise`` (see specialise.py): compiled and
cached on disk for the MLP's loss, compiled in memory for a user's numba function (numba
would key a disk cache by the function's name, which a changed or another function may
share) unless ``source_keys.cache`` keyed it by its source (the CLI's functions from a file),
or run as plain Python by ``bound`` for any callable. One text serves all three.

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
def group_evaluations(args, x0, starts, members, steps, first, stride, F):
    """F[q] = f(x0 + sum_j steps[p, j] e_j, *args), j over group g's columns
    members[starts[g]:starts[g + 1]], q = p G + g (G groups; p a row of ``steps``), for
    q = first, first + stride, ... (the evaluations of a sparse Jacobian: one per group of
    columns that share no row and point of the difference rule)."""
    n_groups = starts.shape[0] - 1
    x = x0.copy()
    for q in range(first, F.shape[0], stride):
        p, g = q // n_groups, q % n_groups
        for k in range(starts[g], starts[g + 1]):
            j = members[k]
            x[j] = x0[j] + steps[p, j]
        F[q] = fun(x, *args)
        for k in range(starts[g], starts[g + 1]):
            x[members[k]] = x0[members[k]]


@template
def shared_group_evaluations(args, x0, starts, members, steps, n_shares, F):
    """``group_evaluations`` of every q, in ``n_shares`` shares (over threads where compiled parallel)."""
    for b in prange(n_shares):
        group_evaluations(args, x0, starts, members, steps, b, n_shares, F)


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
def hessian_rows(args, x0, f0, h, mask, n_shares, H):
    """H[i, j], j >= i where mask[i, j], of a scalar f by central second differences with steps
    h (exact in floating point: x0 +- h is formed without rounding error by the caller's choice of h):

        H_ii = (f(x + 2h_i e_i) - 2 f0 + f(x - 2h_i e_i)) / (4 h_i^2)
        H_ij = (f(x + h_i e_i + h_j e_j) - f(x + h_i e_i - h_j e_j)
                - f(x - h_i e_i + h_j e_j) + f(x - h_i e_i - h_j e_j)) / (4 h_i h_j)
    """
    n = x0.shape[0]
    for b in prange(n_shares):
        x = x0.copy()
        for i in range(b, n, n_shares):
            if mask[i, i]:
                x[i] = x0[i] + 2 * h[i]
                up = fun(x, *args)
                x[i] = x0[i] - 2 * h[i]
                down = fun(x, *args)
                H[i, i] = (up - 2.0 * f0 + down) / (4.0 * h[i] * h[i])
            for j in range(i + 1, n):
                if not mask[i, j]:
                    continue
                corners = 0.0
                for si in (1.0, -1.0):
                    x[i] = x0[i] + si * h[i]
                    for sj in (1.0, -1.0):
                        x[j] = x0[j] + sj * h[j]
                        corners += si * sj * fun(x, *args)
                    x[j] = x0[j]
                H[i, j] = corners / (4.0 * h[i] * h[j])
            x[i] = x0[i]


@template
def forward_hessian_rows(args, x0, f0, single, h, mask, n_shares, H):
    """H[i, j], j >= i where mask[i, j], of a scalar f by forward second differences, with
    single[i] = f(x + h_i e_i) and steps h exact as in ``hessian_rows``:

        H_ij = (f(x + h_i e_i + h_j e_j) - f(x + h_i e_i) - f(x + h_j e_j) + f0) / (h_i h_j)

    (for i = j, x + 2h_i e_i as x0_i + 2 h_i forms it).
    """
    n = x0.shape[0]
    for b in prange(n_shares):
        x = x0.copy()
        for i in range(b, n, n_shares):
            for j in range(i, n):
                if not mask[i, j]:
                    continue
                if j == i:
                    x[i] = x0[i] + 2 * h[i]
                else:
                    x[i] = x0[i] + h[i]
                    x[j] = x0[j] + h[j]
                H[i, j] = (fun(x, *args) - single[i] - single[j] + f0) / (h[i] * h[j])
                x[j] = x0[j]
                x[i] = x0[i]


@template
def complex_hessian_rows(args, x0, h, t, mask, n_shares, H):
    """H[i, j], j >= i where mask[i, j], of a scalar f that takes complex x, by a central
    difference along e_j of the complex-step derivative along e_i (x0 complex, steps h exact
    as in ``hessian_rows``, imaginary steps t):

        H_ij = Im(f(x + i t_i e_i + h_j e_j) - f(x + i t_i e_i - h_j e_j)) / (2 t_i h_j)
    """
    n = x0.shape[0]
    for b in prange(n_shares):
        x = x0.copy()
        for i in range(b, n, n_shares):
            x[i] = x0[i] + 1j * t[i]
            for j in range(i, n):
                if not mask[i, j]:
                    continue
                base = x[j]
                x[j] = base + h[j]
                up = fun(x, *args).imag
                x[j] = base - h[j]
                down = fun(x, *args).imag
                x[j] = base
                H[i, j] = (up - down) / (2.0 * t[i] * h[j])
            x[i] = x0[i]
