"""Integer codes shared by the compiled kernels and the Python layer.

Kernels receive plain integers, never strings: these constants are the only
place where a code gets its meaning. Activation codes sit in the layout table; only the
``mixed`` hidden activation reads them (every other kernel is specialised to its
activations, see specialise.py).
"""

# activations
IDENTITY = 0
TANH = 1
SIGMOID = 2
RELU = 3
SOFTMAX = 4  # output layer only, paired with cross-entropy (which reads the logits)
CUSTOM = 5   # a user's activation (fastgrad.Activation)

# columns of the layer table ``layout`` (one row per layer)
THETA_OFFSET = 0   # where the layer's (n_in+1, n_out) block starts in theta
N_IN = 1
N_OUT = 2
ACTIVATION = 3
CACHE_OFFSET = 4   # where the layer's outputs start in a forward cache, in units of n
LAYOUT_COLUMNS = 5
