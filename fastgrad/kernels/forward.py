"""The forward pass and the loss on the transposed cache of ``layers.py``.

z_l = W_l[0] + W_l[1:]^T a_(l-1) per sample, a_l = f_l(z_l), a_0 = x; for the output
layer A_L = o = f_L(z_L) (softmax probabilities with cross-entropy, which reads Z_L).
Templates: ``hidden``, ``output`` and ``loss`` are bound per configuration (specialise.py).
"""
from .codes import ACTIVATION
from .layers import a_rows, layer_weights, scratch_of, z_rows
from .products import add_products
from .specialise import entry, template

hidden = output = loss = None  # bound per configuration by specialise()
BLOCKED = False  # True: the products blocked in registers (products.py), same bits; bound for large problems


@template(borrowing=True)
def forward(theta, layout, XT, cache):
    """Fill Z and A of every layer."""
    n = XT.shape[1]
    scratch = scratch_of(cache, layout, n)
    last = layout.shape[0] - 1
    IN = XT
    for l in range(last + 1):
        W = layer_weights(theta, layout, l)
        Z, A = z_rows(cache, layout, l, n), a_rows(cache, layout, l, n)
        for j in range(Z.shape[0]):
            for i in range(n):
                Z[j, i] = W[0, j]
            if not BLOCKED:
                for r in range(IN.shape[0]):
                    w = W[r + 1, j]
                    for i in range(n):
                        Z[j, i] += IN[r, i] * w
        if BLOCKED:
            add_products(IN, W[1:], Z)
        if l < last:
            hidden.activate(layout[l, ACTIVATION], Z, A, scratch)
        else:
            output.activate(layout[l, ACTIVATION], Z, A, scratch)
        IN = A


@template(paste=True)
def cached_loss(layout, YT, cache):
    """E(theta) from a filled cache: factor * sum_i l_i, summed with Neumaier's compensation."""
    p, n = YT.shape
    last = layout.shape[0] - 1
    Z, A = z_rows(cache, layout, last, n), a_rows(cache, layout, last, n)
    total = 0.0
    carry = 0.0
    for i in range(n):
        s = loss.sample(Z, A, YT, i)
        t = total + s
        carry += (total - t) + s if abs(total) >= abs(s) else (s - t) + total
        total = t
    return loss.factor(n, p) * (total + carry)


@entry(borrowing=True)
def loss_at(theta, layout, XT, YT, cache):
    """E(theta): a forward pass into ``cache`` followed by the loss."""
    forward(theta, layout, XT, cache)
    return cached_loss(layout, YT, cache)


@template(paste=True)
def output_delta(layout, YT, cache, D):
    """D = dE/dZ_L, (p, n), from a filled cache: the loss's delta times the output's slope."""
    p, n = YT.shape
    last = layout.shape[0] - 1
    code = layout[last, ACTIVATION]
    Z, A = z_rows(cache, layout, last, n), a_rows(cache, layout, last, n)
    for j in range(p):
        for i in range(n):
            D[j, i] = output.times_slope(code, loss.delta(A[j, i], YT, j, i, n, p), Z[j, i], A[j, i])
