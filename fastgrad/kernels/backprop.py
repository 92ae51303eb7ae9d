"""The analytic gradient by backpropagation, on the transposed cache of ``layers.py``.

With D_L = dE/dZ_L from the loss, for l = L..1:
    grad W_l[0, j] = sum_i D_l[j, i],   grad W_l[r+1, j] = sum_i a_(l-1)[r, i] D_l[j, i],
    D_(l-1)[r, i] = (sum_j W_l[r+1, j] D_l[j, i]) f'_(l-1)(z_(l-1)[r, i])   (times_slope).
The deltas live in the cache's workspace, so a call allocates nothing. Specialised parallel
(UNITS_PER_BLOCK bound to PARALLEL_BLOCK), the gradient's columns (blocked: blocks of its
rows) and blocks of the deltas' rows run over threads; specialised BLOCKED, for large
problems, the products are ``products.py``'s, blocked in registers, with the cache's free
delta block and scratch as their workspace. Every sum is the plain serial kernel's, so the
gradient is the same bit for bit. The forward pass stays serial: it is the loss kernel's,
linked, and threading it too (its template pasted in) doubled the parallel kernel's compile
time for a third of the work.
"""
from numba import prange

from .codes import ACTIVATION, N_OUT
from .forward import loss_at, output_delta
from .jit import helper
from .layers import a_rows, delta_block, delta_rows, layer_weights, scratch_of, z_rows
from .products import add_products, deal_columns, dot, row_dots
from .specialise import entry, template
from .summation import block_sum

hidden = None  # bound per configuration by specialise()
BLOCKED = False  # True: the products blocked in registers (products.py), same bits; bound for large problems
PARALLEL_BLOCK = 4  # delta rows per block where a parallel kernel deals them out over threads
UNITS_PER_BLOCK = 0  # the whole layer's deltas at once; bound to PARALLEL_BLOCK in parallel kernels


@helper
def blocks(units, per_block):
    """How many blocks of ``per_block`` units cover ``units`` (per_block = 0: one, the whole layer)."""
    return 1 if per_block == 0 else (units + per_block - 1) // per_block


@helper
def block_bounds(b, units, per_block):
    """(first, stop): the units first .. stop-1 of block b."""
    if per_block == 0:
        return 0, units
    return per_block * b, min(per_block * (b + 1), units)


@template(paste=True)
def _deltas_below(code, D, W, Z, A, below, first, stop):
    """below[r] = (sum_j W[r+1, j] D[j]) f'(Z[r]) for first <= r < stop (A = f(Z)): one
    block of the layer below's deltas."""
    n = D.shape[1]
    if BLOCKED:
        for r in range(first, stop):
            for i in range(n):
                below[r, i] = 0.0
        add_products(D, W[1:].T[:, first:stop], below[first:stop])
    for r in range(first, stop):
        if not BLOCKED:
            for i in range(n):
                below[r, i] = 0.0
            for j in range(D.shape[0]):
                w = W[r + 1, j]
                for i in range(n):
                    below[r, i] += w * D[j, i]
        for i in range(n):
            below[r, i] = hidden.times_slope(code, below[r, i], Z[r, i], A[r, i])


@template(paste=True)
def _blocked_weight_gradient(IN, D, G, cache, layout, free):
    """G[r+1, j] = sum_i IN[r, i] D[j, i] in ``products.dot``'s order by ``products.row_dots``,
    with the cache's delta block ``free`` and its scratch as workspace (G[0] is the caller's)."""
    rows, units, n = IN.shape[0], D.shape[0], D.shape[1]
    DT = scratch_of(cache, layout, n)
    spare = delta_block(cache, layout, free, n)
    deal_columns(D, DT)
    for b in prange(blocks(rows, UNITS_PER_BLOCK)):
        first, stop = block_bounds(b, rows, UNITS_PER_BLOCK)
        row_dots(IN, DT, G[first + 1:stop + 1], spare[3 * first * units:3 * stop * units], first, stop)


@entry(borrowing=True)
def backprop(theta, layout, XT, YT, cache, grad):
    """Write dE/dtheta into ``grad`` and return E(theta)."""
    n = XT.shape[1]
    last = layout.shape[0] - 1
    loss = loss_at(theta, layout, XT, YT, cache)
    output_delta(layout, YT, cache, delta_rows(cache, layout, 0, YT.shape[0], n))
    for l in range(last, -1, -1):
        # layer l's deltas, in block (last - l) % 2: not carried over from the iteration before
        # (a parallel kernel's loops would read such a variable's later value)
        D = delta_rows(cache, layout, (last - l) % 2, layout[l, N_OUT], n)
        IN = XT if l == 0 else a_rows(cache, layout, l - 1, n)
        W = layer_weights(theta, layout, l)
        G = layer_weights(grad, layout, l)
        for j in prange(D.shape[0]):
            G[0, j] = block_sum(D[j], 0, n)
            if not BLOCKED:
                for r in range(IN.shape[0]):
                    G[r + 1, j] = dot(IN, r, D, j)
        if BLOCKED:
            _blocked_weight_gradient(IN, D, G, cache, layout, (last - l + 1) % 2)
        if l > 0:
            rows = IN.shape[0]
            below = delta_rows(cache, layout, (last - l + 1) % 2, rows, n)
            code = layout[l - 1, ACTIVATION]
            Z = z_rows(cache, layout, l - 1, n)
            for b in prange(blocks(rows, UNITS_PER_BLOCK)):
                first, stop = block_bounds(b, rows, UNITS_PER_BLOCK)
                _deltas_below(code, D, W, Z, IN, below, first, stop)
    return loss
