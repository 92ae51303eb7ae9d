"""The columns of the layer table ``layout`` (one row per layer), shared by the compiled
kernels and the Python layer.

Kernels receive plain integers, never strings. A layer's activation code (column
ACTIVATION) is its activation's record's in ``fastgrad.registry``; only the ``mixed``
hidden activation reads it (every other kernel is specialised to its activations, see
specialise.py).
"""
THETA_OFFSET = 0   # where the layer's (n_in+1, n_out) block starts in theta
N_IN = 1
N_OUT = 2
ACTIVATION = 3
CACHE_OFFSET = 4   # where the layer's outputs start in a forward cache, in units of n
LAYOUT_COLUMNS = 5
