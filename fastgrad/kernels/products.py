"""Products blocked in registers, in the plain loops' order of summation (the same bits).

``add_products``: B[u, i] += sum_r A[r, i] C[r, u] (the incremental strategy's propagation
through the layers above a perturbed unit; the forward pass and backprop's deltas of a large
problem). ``row_dots``: G[r, j] = sum_i A[r, i] D[j, i] (backprop's weight gradient of a
large problem) in ``dot``'s order.

A holds ``rows`` units' values over n samples, C the (rows, units) weights, B the units'
sums. Summed in the order of r, as the plain loop

    for u: for r: for i: B[u, i] += A[r, i] C[r, u]

sums, so the results are the same bit for bit; the blocks only change what the loop over the
samples keeps in registers: four units by four rows per pass, so that each A[r, i] loaded
serves four units and each B[u, i] is loaded and stored once per four rows (the plain loop:
once per row), about half the time at 64 rows (measured: bench/products.py).

Linked into the forward pass and backprop of every problem it added 2-3 s to every kernel's
cold compile (loss 3.6 to 6.8 s, backprop 2.7 to 5.0 s in `fastgrad info --warm-up`), so
those kernels use it only where it pays: specialised with BLOCKED = True for problems that
``blocked_pays_off`` (forward.py, backprop.py).

``row_dots`` keeps ``dot``'s order — eight partial sums P_k = sum_c A[r, 8c+k] D[j, 8c+k],
each in the order of c, then ((P0 + P1) + (P2 + P3)) + ((P4 + P5) + (P6 + P7)) + the tail
i >= 8 (n // 8) in order — but computes each P_k for all (r, j) at once as an
``add_products`` over the samples c, with D's columns dealt out by i mod 8 and transposed
(``deal_columns``), so that the loop over j vectorises: ``dot`` does not (numba's loop over
i keeps eight scalar sums); 4x faster at 128 x 128 x 1000.
"""
from .jit import helper, kernel
from .views import as_shape

BLOCKED_MIN_WORK = 200_000  # n P: below it blocks save microseconds for 4-7 s more compile (bench/backprop_kernels.py)


def blocked_pays_off(n, n_params, sizes):
    """Whether the forward pass and backprop of a net of layer ``sizes`` (``n_params`` weights)
    on n samples should use the blocked products: n P >= BLOCKED_MIN_WORK, and n at least three
    times every layer's size (``row_dots``' spare space is a delta block of the cache)."""
    return n * n_params >= BLOCKED_MIN_WORK and n >= 3 * max(sizes)


@helper
def dot(A, r, B, j):
    """sum_i A[r, i] B[j, i] with eight interleaved accumulators (a fixed order)."""
    n = A.shape[1]
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
    i = 0
    while i + 8 <= n:
        a0 += A[r, i] * B[j, i]
        a1 += A[r, i + 1] * B[j, i + 1]
        a2 += A[r, i + 2] * B[j, i + 2]
        a3 += A[r, i + 3] * B[j, i + 3]
        a4 += A[r, i + 4] * B[j, i + 4]
        a5 += A[r, i + 5] * B[j, i + 5]
        a6 += A[r, i + 6] * B[j, i + 6]
        a7 += A[r, i + 7] * B[j, i + 7]
        i += 8
    tail = 0.0
    while i < n:
        tail += A[r, i] * B[j, i]
        i += 1
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + tail


@helper
def _four(C, r, u):
    """C[r .. r+3, u]."""
    return C[r, u], C[r + 1, u], C[r + 2, u], C[r + 3, u]


@kernel(borrowing=True)
def add_products(A, C, B):
    """B[u, i] += sum_r A[r, i] C[r, u], r in order (see the module docstring)."""
    rows, n = A.shape
    units = B.shape[0]
    full = rows - rows % 4
    quads = units - units % 4
    for u in range(0, quads, 4):
        for r in range(0, full, 4):
            w0, w1, w2, w3 = _four(C, r, u)
            v0, v1, v2, v3 = _four(C, r, u + 1)
            x0, x1, x2, x3 = _four(C, r, u + 2)
            y0, y1, y2, y3 = _four(C, r, u + 3)
            for i in range(n):
                a0, a1, a2, a3 = A[r, i], A[r + 1, i], A[r + 2, i], A[r + 3, i]
                B[u, i] = (((B[u, i] + a0 * w0) + a1 * w1) + a2 * w2) + a3 * w3
                B[u + 1, i] = (((B[u + 1, i] + a0 * v0) + a1 * v1) + a2 * v2) + a3 * v3
                B[u + 2, i] = (((B[u + 2, i] + a0 * x0) + a1 * x1) + a2 * x2) + a3 * x3
                B[u + 3, i] = (((B[u + 3, i] + a0 * y0) + a1 * y1) + a2 * y2) + a3 * y3
    for u in range(quads, units):
        for r in range(0, full, 4):
            w0, w1, w2, w3 = _four(C, r, u)
            for i in range(n):
                B[u, i] = (((B[u, i] + A[r, i] * w0) + A[r + 1, i] * w1) + A[r + 2, i] * w2) + A[r + 3, i] * w3
    for u in range(units):
        for r in range(full, rows):
            w = C[r, u]
            for i in range(n):
                B[u, i] += A[r, i] * w


@kernel(borrowing=True)
def deal_columns(D, DT):
    """DT[:n units] <- D (units, n) transposed, its columns dealt out by i mod 8: for k < 8 an
    (n // 8, units) block of the columns 8c + k, then the n % 8 columns of the tail in order."""
    units, n = D.shape
    m = n // 8
    for k in range(8):
        for c in range(m):
            row = (k * m + c) * units
            for j in range(units):
                DT[row + j] = D[j, 8 * c + k]
    for i in range(8 * m, n):
        for j in range(units):
            DT[i * units + j] = D[j, i]


@helper
def _add(B, C):
    """B += C."""
    for u in range(B.shape[0]):
        for x in range(B.shape[1]):
            B[u, x] += C[u, x]


@helper
def _partial(A, DT, k, first, stop, B):
    """B = P_k for the rows first .. stop-1 of A (k = 8: the tail's sum); see the module docstring."""
    n = A.shape[1]
    units = B.shape[1]
    m = n // 8
    for u in range(B.shape[0]):
        for x in range(units):
            B[u, x] = 0.0
    start, count, step, column = (k * m, m, 8, k) if k < 8 else (8 * m, n - 8 * m, 1, 8 * m)
    add_products(as_shape(DT[start * units:(start + count) * units], (count, units)),
                 A.T[column:column + step * count:step, first:stop], B)


@kernel(borrowing=True)
def row_dots(A, DT, G, spare, first, stop):
    """G[r - first, j] = dot(A, r, D, j) for first <= r < stop, every j, the same bits, with DT
    = deal_columns(D) and ``spare`` 3 (stop - first) units floats of workspace."""
    units = G.shape[1]
    size = (stop - first) * units
    sums = (G, as_shape(spare[:size], (stop - first, units)), as_shape(spare[size:2 * size], (stop - first, units)),
            as_shape(spare[2 * size:3 * size], (stop - first, units)))
    depth = 0  # P_0 .. P_7 summed in pairs as they come, ((P0 + P1) + (P2 + P3)) + ((P4 + P5) + (P6 + P7)),
    for k in range(9):  # then the tail (k = 8) added; sums[:depth] holds the pending sums, largest first
        _partial(A, DT, k, first, stop, sums[depth])
        depth += 1
        done = k + 1 if k < 8 else 2
        while done % 2 == 0:
            _add(sums[depth - 2], sums[depth - 1])
            depth -= 1
            done //= 2
