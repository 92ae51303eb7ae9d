"""Compiled analytic gradient by backpropagation.

With D_L = dE/dZ_L from the loss, for l = L..1:
    grad W_l = [1, a_(l-1)]^T D_l,
    D_(l-1) = (D_l W_l[1:]^T) * f'_(l-1)(z_(l-1)).
"""
from .codes import ACTIVATION, CACHE_OFFSET, N_OUT
from .forward import layer_block, layer_weights, loss_at, output_delta, slope
from .jit import kernel


@kernel
def backprop(theta, layout, X, Y, loss_code, cache, grad):
    """Write dE/dtheta into ``grad`` and return E(theta).

    The deltas D_l live in the cache's workspace (two halves, used in turn), so a call
    allocates nothing.
    """
    n = X.shape[0]
    last = layout.shape[0] - 1
    loss = loss_at(theta, layout, X, Y, loss_code, cache)
    work = n * (layout[last, CACHE_OFFSET] + layout[last, N_OUT])
    span = cache.shape[0] - work
    half = span // 2
    D = cache[work:work + n * layout[last, N_OUT]].reshape((n, layout[last, N_OUT]))
    output_delta(layer_block(cache, layout, last, n), Y, layout[last, ACTIVATION], loss_code, D)
    for l in range(last, -1, -1):
        A = X if l == 0 else layer_block(cache, layout, l - 1, n)
        W = layer_weights(theta, layout, l)
        G = layer_weights(grad, layout, l)
        n_in, n_out = A.shape[1], D.shape[1]
        G[:, :] = 0.0
        for i in range(n):
            for j in range(n_out):
                G[0, j] += D[i, j]
            for k in range(n_in):
                a = A[i, k]
                for j in range(n_out):
                    G[k + 1, j] += a * D[i, j]
        if l > 0:
            code = layout[l - 1, ACTIVATION]
            start = work + (half if (last - l) % 2 == 0 else 0)
            below = cache[start:start + n * n_in].reshape((n, n_in))
            for i in range(n):
                for k in range(n_in):
                    s = 0.0
                    for j in range(n_out):
                        s += D[i, j] * W[k + 1, j]
                    below[i, k] = s * slope(code, A[i, k])
            D = below
    return loss
