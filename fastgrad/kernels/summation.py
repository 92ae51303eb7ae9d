"""Pairwise summation: error O(eps log n) instead of a running sum's O(eps n).

Blocks of 128 are summed with 8 interleaved accumulators (which the compiler can keep
in vector registers), then the block sums are added as a balanced tree. The order is
fixed by n alone, so every thread gets the same result.
"""
from .jit import helper

BLOCK = 128


@helper
def block_sum(x, start, stop):
    """sum(x[start:stop]) with eight interleaved accumulators (a fixed order, vectorisable)."""
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
    i = start
    while i + 8 <= stop:
        a0 += x[i]
        a1 += x[i + 1]
        a2 += x[i + 2]
        a3 += x[i + 3]
        a4 += x[i + 4]
        a5 += x[i + 5]
        a6 += x[i + 6]
        a7 += x[i + 7]
        i += 8
    tail = 0.0
    while i < stop:
        tail += x[i]
        i += 1
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + tail


@helper
def pairwise_sum(x, n, partial, at=0):
    """sum(x[:n]); ``partial[at:]`` is scratch of length >= ceil(n / 128) (it may be the tail
    of x itself, beyond n)."""
    if n <= BLOCK:
        return block_sum(x, 0, n)
    blocks = (n + BLOCK - 1) // BLOCK
    for b in range(blocks):
        partial[at + b] = block_sum(x, b * BLOCK, min(n, (b + 1) * BLOCK))
    while blocks > 1:
        half = blocks // 2
        for k in range(half):
            partial[at + k] = partial[at + 2 * k] + partial[at + 2 * k + 1]
        if blocks % 2:
            partial[at + half] = partial[at + blocks - 1]
        blocks = half + blocks % 2
    return partial[at]
