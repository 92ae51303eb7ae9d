"""Sparse Jacobians by groups of columns, as ``scipy.optimize.approx_derivative(sparsity=...)``
forms them, with the grouping, the evaluations and the assembly compiled.

Columns that share no row form a group (``group_columns``: scipy's greedy rule, the same
groups for the same structure and order); one evaluation of f per group and difference rule
point, with every column of the group stepped, gives all their entries (equations in
``kernels/sparse.quotients``), assembled straight into CSR. The groups run over numba's
threads for a numba-compiled f on "numba-parallel" (the same bits as one thread), through
the map-like ``workers`` for a Python f. scipy.sparse builds the result: it is imported here
only when a sparse Jacobian is asked for.

The groups of the last structure grouped are kept with a copy of its pattern (about the size
of the Jacobian's index arrays): a call with a structure that stores the same entries, as a
solver's repeated calls do, reuses them instead of grouping again.
"""
from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from . import calls, dask_backend, policy
from .kernels import any_function, specialise
from .kernels import sparse as kernels
from .kernels import steps as steps_kernels
from .rules import taken

SPARSE_METHODS = ("forward", "central", "complex-step")


def scipy_sparse(option):
    """scipy.sparse, or a ValueError naming ``option`` that needs it."""
    try:
        import scipy.sparse
    except ImportError:
        raise ValueError(f"{option}: needs scipy (pip install scipy)") from None
    return scipy.sparse


def rows_of(structure):
    """``structure`` (a 2-D array_like or scipy sparse array or matrix) as a scipy CSR array or
    matrix: a CSR structure itself, anything else converted (a dense one keeps its nonzeros)."""
    sp = scipy_sparse("sparsity")
    if sp.issparse(structure):
        return structure if structure.format == "csr" else sp.csr_array(structure)
    A = np.atleast_2d(np.asarray(structure))
    if A.ndim != 2:
        raise ValueError(f"sparsity: the structure must be 2-dimensional, got shape {A.shape}")
    return sp.csr_array(A)


def pattern(structure, shape=None):
    """(indptr, indices, is_matrix, shape, stored) of the rows of ``structure`` (``rows_of``):
    indptr and indices list its nonzero entries (duplicates summed, as scipy's ``find``),
    ``stored`` (indptr, indices) every entry it stores, explicit zeros too (the pattern
    scipy's ``group_columns`` groups by); is_matrix: the structure is a scipy sparse
    *matrix*, so the Jacobian is one too. Arrays of a CSR structure are its own, read and
    never written; where its nonzero entries are the stored ones (canonical, no explicit
    zeros), they are the same objects."""
    sp, rows = scipy_sparse("sparsity"), rows_of(structure)
    stored = (rows.indptr, rows.indices[:rows.indptr[-1]])
    entries = stored
    if not (rows.has_canonical_format and np.count_nonzero(rows.data[:rows.indptr[-1]]) == rows.indptr[-1]):
        rows = sp.csr_array(rows, copy=True)
        rows.sum_duplicates()
        rows.eliminate_zeros()
        entries = (rows.indptr, rows.indices[:rows.indptr[-1]])
    if shape is not None and rows.shape != shape:
        raise ValueError(f"sparsity: the structure has shape {rows.shape}; the Jacobian's is {shape}")
    return (*entries, sp.isspmatrix(structure), rows.shape, stored)


def group_columns(structure, order=0):
    """Groups of the columns of ``structure`` (m, n) that share no row: ``groups[j]`` is column
    j's group, 0 to n_groups - 1. The columns are taken in ``order`` (a permutation of n),
    or, for an int or None, in numpy.random.RandomState(order).permutation(n): scipy's rule,
    so the groups are scipy's ``group_columns``'s (a sparse structure's stored zeros count)."""
    return _groups(pattern(structure), order)


def _groups(rows, order=0):
    """``group_columns`` of a ``pattern``."""
    n = rows[3][1]
    if isinstance(order, (int, np.integer)) and 0 <= order < 2 ** 32:
        order, position = _random_order(int(order), n)
    else:
        if order is None or np.isscalar(order):
            order = np.random.RandomState(order).permutation(n)
        order = np.asarray(order)
        if order.shape != (n,):
            raise ValueError(f"order: expected a permutation of {n} columns, got shape {order.shape}")
        order = order.astype(np.int64, copy=False)
        if not np.array_equal(np.sort(order), np.arange(n)):
            raise ValueError(f"order: expected a permutation of {n} columns, each once")
        position = _positions(order)
    return _grouped(rows, order, position)


def _grouped(rows, order, position):
    """The groups of a ``pattern``'s stored entries, its columns taken in ``order`` (column j
    at position[j])."""
    m, (indptr, indices) = rows[3][0], rows[4]
    ptr, column_rows = kernels.columns_in_order(indptr, indices, position)
    groups, complete = kernels.first_fit_groups(m, ptr, column_rows, order)
    return groups if complete else kernels.greedy_groups(m, ptr, column_rows, order)


def fewest_groups(rows):
    """The groups of a ``pattern`` that ``approx_derivative`` evaluates f by: scipy's (``_groups``,
    order 0) or those of the columns in their own order, whichever are fewer (scipy's on a
    tie). A banded structure of width w needs w groups in its own order, and usually more in
    scipy's random one. For a structure that holds every entry f depends on, each f_i sees
    the same point in any grouping, so the Jacobian is the same bits."""
    scipys = _groups(rows)
    natural = np.arange(rows[3][1], dtype=np.int64)
    own = _grouped(rows, natural, natural)
    return own if own.size and own.max() < scipys.max() else scipys


class Plan(NamedTuple):
    """How a sparse Jacobian is evaluated: column j in group ``groups[j]``, the columns of group
    g ``members[starts[g]:starts[g + 1]]``; and where each CSR entry k finds its row and the
    value of f that forms it (``kernels.entry_places``)."""
    groups: np.ndarray
    starts: np.ndarray
    members: np.ndarray
    rows: np.ndarray
    places: np.ndarray


_LAST = None  # (indptr, indices, shape, Plan) of the structure _plan last planned with its own groups


def _plan(rows, groups=None):
    """The ``Plan`` of a ``pattern``, by ``groups`` where given, else by ``fewest_groups``. The
    plan of its own groups is kept (read-only, with a copy of the pattern) where the nonzero
    entries are the stored ones, for ``kept_plan``."""
    global _LAST
    (m, n), stored, own = rows[3], rows[4], groups is None
    if own:
        groups = fewest_groups(rows)
    elif groups.shape != (n,) or (groups.size and groups.min() < 0):
        raise ValueError(f"sparsity: groups must be {n} non-negative ints, got shape {groups.shape}")
    count = int(groups.max()) + 1 if groups.size else 0
    narrow = np.int32 if max(count, 1) * m < 2 ** 31 else np.int64  # places[k] < count m
    plan = Plan(groups, *kernels.members_of(groups, count),
                *kernels.entry_places(rows[0], rows[1], groups, m, np.zeros(0, dtype=narrow)))
    if own and rows[0] is stored[0] and rows[1] is stored[1]:
        for array in plan:
            array.flags.writeable = False
        _LAST = (stored[0].copy(), stored[1].copy(), rows[3], plan)
    return plan


def kept_plan(rows, backend=policy.NUMBA, workers=None):
    """(indptr, indices, Plan): the kept plan, where the CSR structure ``rows`` (``rows_of``)
    stores the entries of the last structure planned with its own groups, none of them zero
    (compared exactly, against the copy, in one pass over ``backend``'s threads: the plan
    depends on nothing else); else None."""
    last = _LAST
    if last is None or rows.shape != last[2]:
        return None
    backend = calls.running(backend, workers)
    compare = specialise.specialise(kernels.same_entries, (), parallel=backend == policy.NUMBA_PARALLEL)
    if not compare(rows.indptr, rows.indices, rows.data, last[0], last[1], calls.shares(backend, workers)):
        return None
    return rows.indptr, rows.indices[:rows.indptr[-1]], last[3]


@functools.lru_cache(maxsize=4)
def _random_order(seed, n):
    """(order, position), read-only: numpy.random.RandomState(seed).permutation(n) and each
    column's place in it (a pure function of (seed, n), so kept for the next call)."""
    order = np.random.RandomState(seed).permutation(n).astype(np.int64, copy=False)
    position = _positions(order)
    order.flags.writeable = position.flags.writeable = False
    return order, position


def _positions(order):
    """position[order[a]] = a: each column's place in ``order``."""
    position = np.empty(order.size, dtype=np.int64)
    position[order] = np.arange(order.size)
    return position


def sparse_jacobian(call, rule, x0, f0, h, one_sided, sparsity, backend, workers, client=None, blocks=None):
    """(J as CSR, evaluations of f): the Jacobian of f at x0 with the structure and groups of
    ``sparsity`` (a structure, or (structure, groups)); ``call`` calls f (a ``calls.Call``,
    whose function the compiled loops take); on "dask", blocks of groups are tasks on
    ``client``'s cluster (``blocks`` of them, default 4 per worker thread)."""
    if rule.name not in SPARSE_METHODS:
        raise ValueError(f"method: sparsity takes 2-point, 3-point or cs (forward, central, complex-step), "
                         f"not {rule.name!r}")
    sp = scipy_sparse("sparsity")
    if not sp.issparse(sparsity) and len(sparsity) == 2:
        structure, groups = sparsity
        groups = np.atleast_1d(np.asarray(groups)).astype(np.int64)
    else:
        structure, groups = sparsity, None
    rows, is_matrix = rows_of(structure), sp.isspmatrix(structure)
    kept = kept_plan(rows, backend, workers) if groups is None and rows.shape == (f0.size, x0.size) else None
    if kept is not None:
        indptr, indices, plan = kept
    else:
        rows = pattern(rows, (f0.size, x0.size))
        indptr, indices, plan = rows[0], rows[1], _plan(rows, groups)
    n_groups, sided = plan.starts.size - 1, np.empty(0, dtype=np.bool_)
    at = _evaluator(call, x0, plan.starts, plan.members, f0, backend, workers, client, blocks)
    wide = x0.dtype == np.float64  # a float64 point holds x0 + h as computed: steps and dx in one compiled pass
    if rule.name == "forward":
        first = second = at(h[None])
        dx = steps_kernels.forward_taken(x0, h) if wide else taken(x0, h)
    elif rule.name == "central":
        if wide and not one_sided.any():
            steps, dx = steps_kernels.central_steps(x0, h)
        else:
            back, ahead, dx = -h, h, calls.stored(x0, h) - calls.stored(x0, -h)
            if one_sided.any():  # scipy's one-sided steps near a bound: x0 + h and x0 + 2h
                back, ahead = np.where(one_sided, h, back), np.where(one_sided, 2 * h, h)
                dx = np.where(one_sided, calls.stored(x0, 2 * h) - x0, dx)
                sided = one_sided
            steps = np.stack((back, ahead))
        F = at(steps)
        first, second = F[:n_groups], F[n_groups:]
    else:
        first = second = np.ascontiguousarray(at((h * 1j)[None]).imag)
        dx, f0 = h, np.zeros(f0.size)
    data, own_indices, own_indptr = np.empty(indices.size), np.empty_like(indices), np.empty_like(indptr)
    backend = calls.running(backend, workers)
    assemble = specialise.specialise(kernels.quotients, (), parallel=backend == policy.NUMBA_PARALLEL)
    assemble(plan.rows, plan.places, indices, indptr, first.reshape(-1), second.reshape(-1), f0, sided,
             np.asarray(dx, dtype=np.float64), rule.name == "central", calls.shares(backend, workers), data,
             own_indices, own_indptr)
    build = sp.csr_matrix if is_matrix else sp.csr_array
    J = build((data, own_indices, own_indptr), shape=(f0.size, x0.size))  # the structure's own stay its own
    return J, n_groups * rule.evaluations


def _evaluator(call, x0, starts, members, f0, backend, workers, client, blocks):
    """steps (P, n) -> F (P G, m): F[p G + g] = f(x0 + sum over g's columns j of steps[p, j] e_j)
    for the G groups, by ``group_rows`` here, or in blocks of groups on the Dask cluster, each
    ``group_rows`` of the serial loop (the same bits)."""
    def at(steps):
        start = x0.astype(complex) if np.iscomplexobj(steps) else x0
        dtype = complex if np.iscomplexobj(steps) else f0.dtype
        n_groups = starts.size - 1
        if backend != policy.DASK:
            return group_rows(call, start, starts, members, steps,
                              np.empty((steps.shape[0] * n_groups, f0.size), dtype=dtype), backend, workers)
        cluster, edges = calls.cluster_blocks(client, blocks, n_groups)
        parts = [part for row in steps for part in dask_backend.run_blocks(
            cluster, _block, (call, start, starts, members, row[None], dtype, f0.size),
            list(zip(edges[:-1], edges[1:])))]
        return np.concatenate(parts)
    return at


def group_rows(call, start, starts, members, steps, F, backend, workers):
    """F[p G + g] = f(start + sum over g's columns j of steps[p, j] e_j) for the G = len(starts) - 1
    groups and each row p of ``steps``, by the compiled loop (``workers`` threads), the
    interpreted one, or the map-like ``workers``."""
    if backend == policy.PYTHON and callable(workers):
        n_groups = starts.size - 1
        points = (_stepped(start, steps[q // n_groups], members[starts[q % n_groups]:starts[q % n_groups + 1]])
                  for q in range(F.shape[0]))
        for q, value in enumerate(workers(call, points)):
            F[q] = value
    elif backend == policy.PYTHON:
        loop = specialise.bound(any_function.shared_group_evaluations, (("fun", call),))
        loop((), start, starts, members, steps, 1, F)
    else:
        backend = calls.running(backend, workers)
        with calls.threads(backend, workers):
            calls.compiled(any_function.shared_group_evaluations, call.fun, backend)(
                call.args, start, starts, members, steps, calls.shares(backend, workers), F)
    return F


def _block(call, start, starts, members, steps, dtype, size, first, last):
    """``group_rows`` of groups first .. last - 1 by the serial loop: a task on the cluster."""
    serial = calls.serial_backend(call.fun, call.kwargs)
    return group_rows(call, start, starts[first:last + 1], members, steps,
                      np.empty((last - first, size), dtype=dtype), serial, None)


def _stepped(x0, steps, columns):
    x = x0.copy()
    x[columns] = x0[columns] + steps[columns]
    return x
