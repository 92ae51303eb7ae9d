"""Kernels of sparse Jacobians: the columns put in order, grouped, groups listed, and the
Jacobian's entries formed from the evaluations of f, one per group, straight into CSR.

A structure is given by its rows (CSR: ``indptr``, ``indices``);
``columns_in_order`` lists its columns (CSC) in the order the grouping takes them. Two
columns may share a group when no row has an entry in both: then one evaluation of f, with
every column of the group stepped, gives each of their entries (Curtis, Powell and Reid, 1974).
"""
import numpy as np
from numba import prange

from .jit import kernel
from .specialise import template


@kernel
def columns_in_order(indptr, indices, position):
    """(ptr, rows): the rows of the column at place a of an order (column j at position[j])
    of a CSR pattern are rows[ptr[a]:ptr[a + 1]], ascending (a CSC pattern, columns in order)."""
    n = position.shape[0]
    ptr = np.zeros(n + 1, dtype=np.int64)
    for k in range(indices.shape[0]):
        ptr[position[indices[k]] + 1] += 1
    for a in range(n):
        ptr[a + 1] += ptr[a]
    fill = ptr[:-1].copy()
    rows = np.empty(indices.shape[0], dtype=indices.dtype)  # row numbers fit the index type of the pattern
    for i in range(indptr.shape[0] - 1):
        for k in range(indptr[i], indptr[i + 1]):
            a = position[indices[k]]
            rows[fill[a]] = i
            fill[a] += 1
    return ptr, rows


@kernel
def first_fit_groups(n_rows, ptr, rows, order):
    """``greedy_groups`` in one pass, while 64 groups suffice: each column, in ``order``, takes
    the lowest group that no earlier column sharing a row with it has (each row keeps the
    groups of its columns as bits). That is the same rule: a column joins group g exactly
    when it shares no row with g's earlier columns and conflicts with every lower group.
    Returns (groups, True), or (partial groups, False) where a column would need a 65th."""
    n = ptr.shape[0] - 1
    bits = np.zeros(n_rows, dtype=np.uint64)
    groups = np.full(n, -1, dtype=np.int64)
    for a in range(n):
        used = np.uint64(0)
        for k in range(ptr[a], ptr[a + 1]):
            used |= bits[rows[k]]
        if used == np.uint64(0xFFFFFFFFFFFFFFFF):
            return groups, False
        g = 0
        while (used >> np.uint64(g)) & np.uint64(1):
            g += 1
        groups[order[a]] = g
        bit = np.uint64(1) << np.uint64(g)
        for k in range(ptr[a], ptr[a + 1]):
            bits[rows[k]] |= bit
    return groups, True


@kernel
def greedy_groups(n_rows, ptr, rows, order):
    """groups[j], the group of column j, the columns' rows given in ``order`` as by
    ``columns_in_order``: each column not yet grouped opens a group, and every later column
    not yet grouped joins it when it shares no row with the group's columns so far (scipy's
    ``group_columns``: the same groups)."""
    n = ptr.shape[0] - 1
    taken = np.full(n, -1, dtype=np.int64)  # by position in order
    union = np.zeros(n_rows, dtype=np.bool_)
    current = 0
    for a in range(n):
        if taken[a] >= 0:
            continue
        taken[a] = current
        union[:] = False
        for k in range(ptr[a], ptr[a + 1]):
            union[rows[k]] = True
        for b in range(a + 1, n):
            if taken[b] >= 0:
                continue
            free = True
            for k in range(ptr[b], ptr[b + 1]):
                if union[rows[k]]:
                    free = False
                    break
            if free:
                for k in range(ptr[b], ptr[b + 1]):
                    union[rows[k]] = True
                taken[b] = current
        current += 1
    groups = np.empty(n, dtype=np.int64)
    for a in range(n):
        groups[order[a]] = taken[a]
    return groups


@kernel
def members_of(groups, n_groups):
    """(starts, members): the columns of group g, ascending, are members[starts[g]:starts[g + 1]]."""
    counts = np.zeros(n_groups + 1, dtype=np.int64)
    for j in range(groups.shape[0]):
        counts[groups[j] + 1] += 1
    starts = np.cumsum(counts)
    fill = starts[:-1].copy()
    members = np.empty(groups.shape[0], dtype=np.int64)
    for j in range(groups.shape[0]):
        members[fill[groups[j]]] = j
        fill[groups[j]] += 1
    return starts, members


@kernel
def entry_places(indptr, indices, groups, n_rows, like):
    """(rows, places) of a CSR pattern's entries k, of ``like``'s integer type: rows[k], the row
    i of the entry, and places[k] = g n_rows + i, where the value of f_i at the point of
    column j = indices[k]'s group g lies in the flattened (groups, n_rows) array of the
    evaluations."""
    rows = np.empty(indices.shape[0], dtype=like.dtype)
    places = np.empty(indices.shape[0], dtype=like.dtype)
    for i in range(indptr.shape[0] - 1):
        for k in range(indptr[i], indptr[i + 1]):
            rows[k] = i
            places[k] = groups[indices[k]] * n_rows + i
    return rows, places


@template
def same_entries(indptr, indices, data, kept_indptr, kept_indices, n_shares):
    """Whether the CSR pattern (indptr, indices) is (kept_indptr, kept_indices), entry for
    entry, with no zero among its ``data``: one pass in ``n_shares`` contiguous blocks (over
    threads where specialised parallel), without a branch per entry."""
    if indptr.shape[0] != kept_indptr.shape[0] or indptr[-1] != kept_indptr[-1]:
        return False
    differ = np.zeros(n_shares, dtype=np.bool_)
    rows, size = indptr.shape[0], kept_indptr[-1]
    for b in prange(n_shares):
        start, stop = b * rows // n_shares, (b + 1) * rows // n_shares
        ours, kept = indptr[start:stop], kept_indptr[start:stop]
        found = False
        for i in range(ours.shape[0]):
            found |= ours[i] != kept[i]
        start, stop = b * size // n_shares, (b + 1) * size // n_shares
        ours, kept, values = indices[start:stop], kept_indices[start:stop], data[start:stop]
        for k in range(ours.shape[0]):
            found |= (ours[k] != kept[k]) | (values[k] == 0)
        differ[b] = found
    return not differ.any()


@template
def quotients(rows, places, indices, indptr, first, second, f0, one_sided, dx, central, n_shares, data, indices_out,
              indptr_out):
    """data[k], the entry (i = rows[k], j = indices[k]) of the Jacobian, from the values of f_i
    at the points of j's group, first[places[k]] and second[places[k]] (``entry_places``),
    as scipy's sparse quotients form them, to the bit:

        forward (``central`` False)   (first[places[k]] - f0[i]) / dx[j]
        central                       (second[places[k]] - first[places[k]]) / dx[j],
                                      one-sided: (-3 f0[i] + 4 first[places[k]] - second[places[k]]) / dx[j]

    where one_sided[j] (``one_sided`` is empty when no column is); and copies of indices and
    indptr (the Jacobian's own) in indices_out and indptr_out, in the same pass. Each entry is
    formed alone, in ``n_shares`` contiguous blocks (over threads where specialised parallel),
    so any number of shares gives the same bits; loops without a branch, so that they vectorise.
    """
    size, pointers = data.shape[0], indptr.shape[0]
    for b in prange(n_shares):
        start, stop = b * pointers // n_shares, (b + 1) * pointers // n_shares
        for i in range(start, stop):
            indptr_out[i] = indptr[i]
        start, stop = b * size // n_shares, (b + 1) * size // n_shares
        # slices, so that k is known not to be negative and the loops vectorise
        out, at, row, column = data[start:stop], places[start:stop], rows[start:stop], indices[start:stop]
        column_out = indices_out[start:stop]
        if not central:
            for k in range(out.shape[0]):
                out[k] = (first[at[k]] - f0[row[k]]) / dx[column[k]]
                column_out[k] = column[k]
        elif one_sided.shape[0] == 0:
            for k in range(out.shape[0]):
                out[k] = (second[at[k]] - first[at[k]]) / dx[column[k]]
                column_out[k] = column[k]
        else:
            for k in range(out.shape[0]):
                j = column[k]
                column_out[k] = j
                if one_sided[j]:
                    out[k] = (-3.0 * f0[row[k]] + 4 * first[at[k]] - second[at[k]]) / dx[j]
                else:
                    out[k] = (second[at[k]] - first[at[k]]) / dx[j]
