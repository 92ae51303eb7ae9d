"""The incremental strategy's products through the layers above a perturbed unit, blocked
in registers: B[u, i] += sum_r A[r, i] C[r, u].

A holds ``rows`` units' values over n samples, C the (rows, units) weights, B the units'
sums. Summed in the order of r, as the plain loop

    for u: for r: for i: B[u, i] += A[r, i] C[r, u]

sums, so the results are the same bit for bit; the blocks only change what the loop over the
samples keeps in registers: four units by four rows per pass, so that each A[r, i] loaded
serves four units and each B[u, i] is loaded and stored once per four rows (the plain loop:
once per row), about half the time at 64 rows (measured: bench/products.py).

Only the incremental propagation uses it, where it is most of the work at depth: linked into
the forward pass and backprop as well it added 2-3 s to every kernel's cold compile (loss 3.6
to 6.8 s, backprop 2.7 to 5.0 s in `fastgrad info --warm-up`) for ~30 % on deep backprop.
"""
from .jit import helper, kernel


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
