"""Differences by incremental re-evaluation: only what a perturbation changes.

Perturbing W_l[r, c] by +-h moves column c of z_l by d_i = +-h x_ir (x the layer's
input, x_i0 = 1 for the bias), and nothing below layer l. The forward pass is cached
once per gradient; each entry then propagates *changes* only:

    da_l[c]  = f(z + d) - f(z) from the cached a = f(z) without cancellation (the
               activation's ``change``; tanh and sigmoid through u = tanh(s d), and by
               its Taylor polynomial where every |s d| <= TINY: ``_tiny_change``);
    dz_(l+1) = da_l[c] (x) W_(l+1)[c+1, :]   (rank one), then dz_k = da_(k-1) W_k[1:] above
               (``products.add_products``),

and the loss difference l_i(+) - l_i(-) is formed per sample from the output changes
(the loss's ``accumulate``), never by subtracting two nearly equal losses; the
per-sample differences are summed pairwise. u = tanh(s h x_ir) is tabulated once per
gradient, so the hidden layers need no transcendental per entry.

Templates: ``hidden``, ``output``, ``loss``, ``first_change`` (``tabled_first_change``
for activations with a u-table, else ``exact_first_change``) and ``deeper``
(``through_the_layers_above`` for nets with two or more hidden layers, else
``no_layers_above``) are bound per configuration.
Caches are transposed, (units, n), so the loops over samples are contiguous; the flat
hot loops index with unsigned integers, which spares the negative-index checks and
lets them vectorise.
"""
from collections import namedtuple

import numpy as np
from numba import prange

from .codes import ACTIVATION, CACHE_OFFSET, N_IN, N_OUT, THETA_OFFSET
from .elementary import SMALL, tanh_into, tanh_near_zero
from .forward import cached_loss, forward
from .jit import helper, kernel
from .layers import block, cache_size, inputs_below, layer_weights, units, width
from .products import add_products
from .specialise import entry, template
from .summation import pairwise_sum
from .views import as_flat, as_shape

TINY = 1e-4  # the largest |u_scale d| that _tiny_change takes

hidden = output = loss = first_change = deeper = None  # bound per configuration by specialise()

ForwardCache = namedtuple("ForwardCache", ["XT", "YT", "Z", "A", "U", "reach", "mass", "loss"])
ForwardCache.__doc__ = """The forward pass an incremental gradient starts from, every block flat and
transposed (unit j of a (units, n) block at base + j n): inputs XT, targets YT, pre-activations
Z and activations A of every layer, the u-table U of every hidden layer's inputs and the
reach of each of its rows (max_i |x_ri|), mass_i = sum_j y_ij, and the loss E(theta)."""


@helper
def scratch_size(layout, n):
    """Floats of one share's scratch: S (4, width, n), V (4n + 2) and acc (2, n)."""
    return 4 * width(layout) * n + 6 * n + 2


@kernel
def workspace_size(layout, n):
    """Floats of the serial job's workspace for n samples: the forward cache, the u-table,
    reach, three rows of n (scaled steps, mass, tanh's scratch), one share's scratch.
    (A kernel, linked: pasted, its helpers cost each caller a second of compile.)"""
    below = inputs_below(layout, layout.shape[0] - 1)
    return cache_size(layout, n) + n * below + below + 3 * n + scratch_size(layout, n)


@template
def prepare(theta, layout, XT, YT, h, shared, work):
    """The ForwardCache for theta in the workspace ``work`` (``workspace_size``), with the
    u-table built for the step h (the rows that ``tabled_first_change`` reads: not those whose
    changes are tiny); ``shared``: threads will read it."""
    n = XT.shape[1]
    last = layout.shape[0] - 1
    below = inputs_below(layout, last)
    at = cache_size(layout, n)
    cache = work[:at]
    forward(theta, layout, XT, cache)
    total = n * units(layout)
    AT = cache[total:2 * total]
    UT = work[at:at + n * below]
    reach = work[at + n * below:at + n * below + below]
    at += n * below + below
    scaled, mass, tanh_scratch = work[at:at + n], work[at + n:at + 2 * n], work[at + 2 * n:at + 3 * n]
    for r in range(below):
        reach[r] = 0.0
    for l in range(last):
        s = hidden.u_scale(layout[l, ACTIVATION])
        if s != 0.0:  # u = tanh(s h x)
            n_in = layout[l, N_IN]
            IN = XT if l == 0 else block(AT, layout, l - 1, n)
            row = inputs_below(layout, l)
            U = as_shape(UT[n * row:n * (row + n_in)], (n_in, n))
            for r in range(n_in):
                for i in range(n):
                    reach[row + r] = max(reach[row + r], abs(IN[r, i]))
                if abs(s * h) * reach[row + r] > TINY:  # else its changes are tiny: no u needed
                    for i in range(n):
                        scaled[i] = s * h * IN[r, i]
                    tanh_into(scaled, U[r], tanh_scratch)
    for i in range(n):
        mass[i] = 0.0
    for j in range(YT.shape[0]):
        for i in range(n):
            mass[i] += YT[j, i]
    E = cached_loss(layout, YT, cache)
    # threads get own copies of Z and A: views into one shared cache made them contend for its
    # reference count (measured: 1.4 ms instead of 1.0 ms at [8, 64, 4] on 2 threads)
    Z, A = (cache[:total].copy(), AT.copy()) if shared else (cache[:total], AT)
    return ForwardCache(as_flat(XT), as_flat(YT), Z, A, UT, reach, mass, E)


@template(paste=True)
def exact_first_change(code, ZT, AT, zbase, UT, ubase, IN, xbase, bias, h, m, table, reach, V):
    """Changes of a_l[c] (at zbase in ZT, AT) for the steps +h and -m h, sample by sample
    by the activation's ``change``; written to V[n + i] (+h) and V[2n + i] (-m h). The
    weight's input is IN[xbase + i], or 1 for the bias (bias = 1.0)."""
    n = np.uint64(V.shape[0] // 4)
    zbase, xbase = np.uint64(zbase), np.uint64(xbase)
    for i in range(n):
        d = h * (bias + (1.0 - bias) * IN[xbase + i])
        V[n + i] = hidden.change(code, ZT[zbase + i], AT[zbase + i], d)
        V[2 * n + i] = hidden.change(code, ZT[zbase + i], AT[zbase + i], -m * d)


@template(paste=True)
def _tilted_changes(code, a, u, m, V, i, n):
    """With (t, s) the activation's tilt, f(z + d) - f(z) = s / (1 + t u) into V[n + i] and
    f(z - m d) - f(z) = -m s / (1 - t u) into V[2n + i], one division for both signs."""
    t, s = hidden.tilt(code, a, u)
    inverse = s / ((1.0 + t * u) * (1.0 - t * u))
    V[n + i] = inverse * (1.0 - t * u)
    V[2 * n + i] = -m * inverse * (1.0 + t * u)


@template(paste=True)
def _tiny_change(code, a, v):
    """f(z + d) - f(z) = g u / (1 + t u), u = tanh v, v = u_scale d, (t, g) the activation's
    tilt for u = 1, for |v| <= TINY by the Taylor polynomial

        g (v - t v^2 + (t^2 - 1/3) v^3 + t (2/3 - t^2) v^4),

    whose next term, (2/15 - t^2 + t^4) v^5 with |t| <= 1, is below 2e-17 of the change
    there: the exact change to rounding, without a tanh or a division."""
    t, g = hidden.tilt(code, a, 1.0)
    return g * v * (1.0 + v * (-t + v * ((t * t - 1.0 / 3.0) + v * (t * (2.0 / 3.0 - t * t)))))


@template(paste=True)
def tabled_first_change(code, ZT, AT, zbase, UT, ubase, IN, xbase, bias, h, m, table, reach, V):
    """The same through u = tanh(s d) (s the activation's ``u_scale``): from the u-table
    UT[ubase + i] when it was built for this h (``table``), else computed. Only where every
    |s d| <= SMALL (``reach`` = max_i |x_i|, 1 for the bias): the formula's 1 +- t u then
    stays above 1 - tanh(SMALL) > 0.4; larger steps are left to the activation's ``change``,
    and where every |s d| <= TINY, ``_tiny_change`` forms them without the u-table."""
    scale = hidden.u_scale(code)
    if scale == 0.0 or abs(scale * h) * reach > SMALL:
        exact_first_change(code, ZT, AT, zbase, UT, ubase, IN, xbase, bias, h, m, table, reach, V)
        return
    n = np.uint64(V.shape[0] // 4)
    zbase, ubase, xbase = np.uint64(zbase), np.uint64(ubase), np.uint64(xbase)
    if abs(scale * h) * reach <= TINY:
        for i in range(n):
            v = scale * h * (bias + (1.0 - bias) * IN[xbase + i])
            V[n + i] = _tiny_change(code, AT[zbase + i], v)
            V[2 * n + i] = _tiny_change(code, AT[zbase + i], -m * v)
        return
    if table or bias == 1.0:
        u_bias = tanh_near_zero(scale * h)
        for i in range(n):
            _tilted_changes(code, AT[zbase + i], bias * u_bias + (1.0 - bias) * UT[ubase + i], m, V, i, n)
    else:
        for i in range(n):
            _tilted_changes(code, AT[zbase + i], tanh_near_zero(scale * h * IN[xbase + i]), m, V, i, n)


@template(paste=True)
def _accumulate_unit(code, z, a, y, dzp, dzm, i, diff, acc):
    """Add one output unit's part of l_i(+) - l_i(-) for pre-activation changes dzp, dzm."""
    dp = output.change(code, z, a, dzp)
    dm = output.change(code, z, a, dzm)
    loss.accumulate(a, y, dp, dm, i, diff, acc)


@helper
def _largest(x, y):
    """max_i max(|x_i|, |y_i|)."""
    top = 0.0
    for i in range(x.shape[0]):
        top = max(top, abs(x[i]), abs(y[i]))
    return top


@template(paste=True)
def _small_change(code, a, u_argument):
    """f(z + d) - f(z) = s / (1 + t u), u = tanh(u_scale d) = tanh(``u_argument``), for
    |u_argument| <= SMALL: the activation's ``change`` there, by the same operations."""
    u = tanh_near_zero(u_argument)
    t, s = hidden.tilt(code, a, u)
    return s / (1.0 + t * u)


@template(borrowing=True)
def _propagate(theta, layout, l, c, last, ZT, AT, S, V):
    """Changes of z_L in S[2] (+h) and S[3] (-m h), from the changes of a_l[c] in V,
    through the layers l+1 .. L. A unit whose changes are all tiny (every |s d| <= TINY, s
    the activation's u_scale) takes them by ``_tiny_change``, one whose changes are all small
    (<= SMALL) by ``_small_change``, each in a loop without branches, which the compiler
    vectorises; the others by the activation's ``change``."""
    n = V.shape[0] // 4
    Ap, Am, Bp, Bm = S[0], S[1], S[2], S[3]
    for i in range(n):
        Ap[0, i] = V[n + i]
        Am[0, i] = V[2 * n + i]
    rows = 1  # Ap/Am hold changes of `rows` units of layer k-1 (just unit c when k = l+1)
    for k in range(l + 1, last + 1):
        W = layer_weights(theta, layout, k)
        first = c + 1 if k == l + 1 else 1  # the weights of the rows that changed
        units_k = layout[k, N_OUT]
        Bp[:units_k] = 0.0
        Bm[:units_k] = 0.0
        add_products(Ap[:rows], W[first:first + rows], Bp[:units_k])
        add_products(Am[:rows], W[first:first + rows], Bm[:units_k])
        if k < last:
            code = layout[k, ACTIVATION]
            scale = hidden.u_scale(code)
            Zk, Ak = block(ZT, layout, k, n), block(AT, layout, k, n)
            for j in range(units_k):
                largest = scale * _largest(Bp[j], Bm[j])
                if scale != 0.0 and largest <= TINY:
                    for i in range(n):
                        Ap[j, i] = _tiny_change(code, Ak[j, i], scale * Bp[j, i])
                        Am[j, i] = _tiny_change(code, Ak[j, i], scale * Bm[j, i])
                elif scale != 0.0 and largest <= SMALL:
                    for i in range(n):  # the changes' own formula, without a branch per sample
                        Ap[j, i] = _small_change(code, Ak[j, i], scale * Bp[j, i])
                        Am[j, i] = _small_change(code, Ak[j, i], scale * Bm[j, i])
                else:
                    for i in range(n):
                        Ap[j, i] = hidden.change(code, Zk[j, i], Ak[j, i], Bp[j, i])
                        Am[j, i] = hidden.change(code, Zk[j, i], Ak[j, i], Bm[j, i])
            rows = units_k


@template(paste=True)
def through_the_layers_above(theta, layout, l, c, YT, ZT, AT, S, V, diff, acc):
    """Add l_i(+) - l_i(-) for a change of a_l[c] in V that reaches the output through
    hidden layers l+1 .. L-1 (``deeper`` in nets with two or more hidden layers)."""
    n = V.shape[0] // 4
    last = layout.shape[0] - 1
    code = layout[last, ACTIVATION]
    obase = n * layout[last, CACHE_OFFSET]
    _propagate(theta, layout, l, c, last, ZT, AT, S, V)
    for j in range(layout[last, N_OUT]):
        oj, yj = np.uint64(obase + j * n), np.uint64(j * n)
        for i in range(np.uint64(n)):
            _accumulate_unit(code, ZT[oj + i], AT[oj + i], YT[yj + i], S[2, j, i], S[3, j, i], i, diff, acc)


@template(paste=True)
def no_layers_above(theta, layout, l, c, YT, ZT, AT, S, V, diff, acc):
    """``deeper`` in nets with one hidden layer, where every change of a hidden unit reaches
    the output directly (rank one), so this is never called: nothing to compile."""


@template(borrowing=True)
def entry_differences(theta, layout, steps, m, h_table, entries, first, stride, fc, S, V, acc, out):
    """out[k] = E(theta + s_k e_q) - E(theta - m s_k e_q), q = entries[k], for k = first,
    first + stride, ... by incremental re-evaluation from the ForwardCache ``fc``: m = 1 for a
    symmetric pair, m = 0 for a one-sided difference; the u-table serves the steps equal to
    h_table. S (4, width, n), V (4n + 2) and acc (2, n) are the caller's scratch."""
    XT, YT, ZT, AT = fc.XT, fc.YT, fc.Z, fc.A
    n = fc.mass.shape[0]
    nu = np.uint64(n)
    p = YT.shape[0] // n
    last = layout.shape[0] - 1
    code = layout[last, ACTIVATION]
    obase = n * layout[last, CACHE_OFFSET]
    diff = V[:n]
    for k in range(first, entries.shape[0], stride):
        h, q = steps[k], entries[k]
        l = 0
        while l < last and q >= layout[l + 1, THETA_OFFSET]:
            l += 1
        r, c = divmod(q - layout[l, THETA_OFFSET], layout[l, N_OUT])
        bias = 1.0 if r == 0 else 0.0
        IN = XT if l == 0 else AT  # the perturbed weight's input row starts at xbase
        xbase = (0 if l == 0 else n * layout[l - 1, CACHE_OFFSET]) + n * max(r - 1, 0)
        loss.begin(diff, acc)
        if l == last:  # only output unit c moves, by d_i
            zc, yc, xb = np.uint64(obase + c * n), np.uint64(c * n), np.uint64(xbase)
            for i in range(nu):
                d = h * (bias + (1.0 - bias) * IN[xb + i])
                _accumulate_unit(code, ZT[zc + i], AT[zc + i], YT[yc + i], d, -m * d, i, diff, acc)
        else:
            row = inputs_below(layout, l) + max(r - 1, 0)
            first_change(layout[l, ACTIVATION], ZT, AT, n * (layout[l, CACHE_OFFSET] + c), fc.U, n * row, IN, xbase,
                         bias, h, m, h == h_table, 1.0 if r == 0 else fc.reach[row], V)
            if l == last - 1:  # rank one: dz_L[j] = da_l[c] W_L[c+1, j]
                wbase = layout[last, THETA_OFFSET] + (c + 1) * layout[last, N_OUT]
                for j in range(p):
                    w = theta[wbase + j]
                    oj, yj = np.uint64(obase + j * n), np.uint64(j * n)
                    for i in range(nu):
                        _accumulate_unit(code, ZT[oj + i], AT[oj + i], YT[yj + i], V[nu + i] * w, V[2 * nu + i] * w,
                                         i, diff, acc)
            else:
                deeper(theta, layout, l, c, YT, ZT, AT, S, V, diff, acc)
        loss.finish(fc.mass, diff, acc)
        out[k] = loss.factor(n, p) * pairwise_sum(V, n, V, 3 * n)


@template(borrowing=True)
def _share(theta, layout, steps, m, h_table, entries, first, stride, fields, scratch, out):
    """out[k] for k = first, first + stride, ... (interleaved, so that costly and cheap
    layers are spread evenly), in private ``scratch`` (``scratch_size``); ``fields``: a
    ForwardCache's."""
    fc = ForwardCache(*fields)
    n = fc.mass.shape[0]
    w = width(layout)
    S = as_shape(scratch[:4 * w * n], (4, w, n))
    V = scratch[4 * w * n:4 * w * n + 4 * n + 2]
    acc = as_shape(scratch[4 * w * n + 4 * n + 2:4 * w * n + 6 * n + 2], (2, n))
    entry_differences(theta, layout, steps, m, h_table, entries, first, stride, fc, S, V, acc, out)


@entry
def incremental_differences(theta, layout, XT, YT, steps, m, h_table, entries, n_shares, work, out):
    """out[k] = E(theta + s_k e_q) - E(theta - m s_k e_q), q = entries[k], by incremental
    re-evaluation, dealt out in ``n_shares`` interleaved shares; returns E(theta). The
    u-table is built for the step h_table (other steps compute u per sample). ``work``: the
    caller's workspace of ``workspace_size`` floats, reused from call to call (a shorter one,
    such as np.empty(0), makes the job allocate its own); each further share allocates its
    scratch."""
    n = XT.shape[1]
    size = workspace_size(layout, n)
    if work.shape[0] < size:
        work = np.empty(size)
    fc = prepare(theta, layout, XT, YT, h_table, n_shares > 1, work)
    fields = (fc.XT, fc.YT, fc.Z, fc.A, fc.U, fc.reach, fc.mass, fc.loss)  # numba's threads take no namedtuple
    scratch = work[size - scratch_size(layout, n):size]
    for b in prange(n_shares):
        _share(theta, layout, steps, m, h_table, entries, b, n_shares, fields,
               scratch if b == 0 else np.empty(scratch.shape[0]), out)
    return fc.loss
