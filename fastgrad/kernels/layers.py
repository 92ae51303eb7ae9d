"""Where things live: a layer's weights in theta, its blocks in a forward cache.

The cache holds every layer's pre-activations Z_l and activations A_l as (n_out, n)
blocks — unit j of layer l at row j, the samples contiguous, so that loops over samples
vectorise — then workspace:

    [ Z_1 .. Z_L | A_1 .. A_L | two (width, n) delta blocks | width n of scratch ]

(the scratch: for the vectorised tanh and sigmoid of a whole layer at once).

Inputs and targets come transposed too: XT (d, n) and YT (p, n).
"""
from .codes import CACHE_OFFSET, N_IN, N_OUT, THETA_OFFSET
from .jit import helper
from .views import as_shape


@helper
def width(layout):
    """The widest layer's output count."""
    w = 0
    for l in range(layout.shape[0]):
        w = max(w, layout[l, N_OUT])
    return w


@helper
def units(layout):
    """Output units of all layers together (the rows of Z, and of A)."""
    last = layout.shape[0] - 1
    return layout[last, CACHE_OFFSET] + layout[last, N_OUT]


@helper
def inputs_below(layout, l):
    """Input units of the layers before l together (the rows of a u-table below layer l)."""
    total = 0
    for k in range(l):
        total += layout[k, N_IN]
    return total


@helper
def cache_size(layout, n):
    """Length of the cache for n samples (see the module docstring)."""
    return n * (2 * units(layout) + 3 * width(layout))


@helper
def layer_weights(theta, layout, l):
    """Layer l's (n_in+1, n_out) view of theta, bias row first."""
    start = layout[l, THETA_OFFSET]
    rows, cols = layout[l, N_IN] + 1, layout[l, N_OUT]
    return as_shape(theta[start:start + rows * cols], (rows, cols))


@helper
def block(buffer, layout, l, n):
    """Layer l's (n_out, n) block of a buffer laid out like Z (or like A)."""
    start = n * layout[l, CACHE_OFFSET]
    return as_shape(buffer[start:start + n * layout[l, N_OUT]], (layout[l, N_OUT], n))


@helper
def z_rows(cache, layout, l, n):
    """Layer l's pre-activations, (n_out, n)."""
    return block(cache, layout, l, n)


@helper
def a_rows(cache, layout, l, n):
    """Layer l's activations, (n_out, n)."""
    return block(cache[n * units(layout):], layout, l, n)


@helper
def delta_block(cache, layout, which, n):
    """Delta block ``which`` (0 or 1) of the workspace, flat: width n floats."""
    start = n * (2 * units(layout) + which * width(layout))
    return cache[start:start + n * width(layout)]


@helper
def delta_rows(cache, layout, which, rows, n):
    """Delta block ``which`` (0 or 1) of the workspace, (rows, n)."""
    start = n * (2 * units(layout) + which * width(layout))
    return as_shape(cache[start:start + rows * n], (rows, n))


@helper
def scratch_of(cache, layout, n):
    """The width n floats of scratch at the end of the cache."""
    start = n * (2 * units(layout) + 2 * width(layout))
    return cache[start:start + n * width(layout)]
