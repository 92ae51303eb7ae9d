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
``no_layers_above``) are bound per configuration; the variants of a slot share one
signature. Each share works in its own ``Scratch``, named views made once.
Caches are transposed, (units, n), so the loops over samples are contiguous; the flat
hot loops index with unsigned integers, which spares the negative-index checks and
lets them vectorise. The sign of a zero change never reaches a difference: the loss
accumulates from +0.0 by additions and subtractions.
"""
from collections import namedtuple

import numpy as np
from numba import prange

from .codes import ACTIVATION, CACHE_OFFSET, N_IN, N_OUT, THETA_OFFSET
from .elementary import SMALL, tanh_into, tanh_near_zero, tilted_change
from .forward import cached_loss, forward
from .jit import helper, kernel
from .layers import block, cache_size, inputs_below, layer_weights, units, width
from .products import add_products
from .specialise import entry, template
from .summation import BLOCK, pairwise_sum
from .views import as_flat, as_shape

hidden = output = loss = first_change = deeper = None  # bound per configuration by specialise()

ForwardCache = namedtuple("ForwardCache", ["XT", "YT", "Z", "A", "U", "reach", "mass", "loss"])
ForwardCache.__doc__ = """The forward pass an incremental gradient starts from, every block flat and
transposed (unit j of a (units, n) block at base + j n): inputs XT, targets YT, pre-activations
Z and activations A of every layer, the u-table U of every hidden layer's inputs and the
reach of each of its rows (max_i |x_ri|), mass_i = sum_j y_ij, and the loss E(theta)."""

Scratch = namedtuple("Scratch", ["up", "down", "da_up", "da_down", "dz_up", "dz_down", "diff", "acc", "partial"])
Scratch.__doc__ = """One share's scratch, views of its floats (``scratch_size``): da_up and da_down
(width, n), the changes of a layer's activations for the steps +h and -m h, their row 0, up and
down, those of the perturbed unit; dz_up and dz_down (width, n), the next layer's pre-activation
changes; diff (n), l_i(+) - l_i(-); acc (2, n), the loss's accumulators; partial, the pairwise
sum's."""

Perturbed = namedtuple("Perturbed", ["l", "c", "h", "bias", "tabled", "reach", "unit", "inputs", "x_at", "u_at"])
Perturbed.__doc__ = """The weight W_l[r, c] that an entry moves by +h and -h: ``bias`` when r = 0;
``tabled``: the u-table was built for h; ``reach``: max_i |x_ir| (1 for the bias); unit c's row
of Z and A at ``unit``; its input row x_r at ``x_at`` in ``inputs`` (XT or A) and that row's
u-table at ``u_at`` in U (bases as np.uint64)."""


# The tiers of a change f(z + d) - f(z), chosen per unit by the largest |s d| of its steps (s the
# activation's u_scale): by the Taylor polynomial (TINY_STEPS), through u = tanh(s d) (SMALL_STEPS:
# the formula's 1 +- t u then stays above 1 - tanh(SMALL) > 0.4), or by the activation's ``change``.
TINY = 1e-4  # the largest |s d| that _tiny_change takes
EXACT, SMALL_STEPS, TINY_STEPS = 0, 1, 2


@helper
def _tier(scale, largest):
    """The tier of a unit's changes whose largest |s d| is ``largest``: EXACT where s = 0 (no
    u-table), where ``largest`` > SMALL, or is NaN."""
    if scale == 0.0 or not largest <= SMALL:
        return EXACT
    return TINY_STEPS if largest <= TINY else SMALL_STEPS


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
def _small_change(code, a, u_argument):
    """f(z + d) - f(z) = s / (1 + t u), u = tanh(u_scale d) = tanh(``u_argument``), for
    |u_argument| <= SMALL: the activation's ``change`` there, by the same operations."""
    u = tanh_near_zero(u_argument)
    t, s = hidden.tilt(code, a, u)
    return tilted_change(t, s, u)


@template(paste=True)
def _tilted_changes(code, a, u, up, down, i):
    """With (t, s) the activation's tilt, f(z + d) - f(z) = s / (1 + t u) into up[i] and
    f(z - d) - f(z) = -s / (1 - t u) (u is odd in d) into down[i], one division for both signs."""
    t, s = hidden.tilt(code, a, u)
    inverse = s / ((1.0 + t * u) * (1.0 - t * u))
    up[i] = inverse * (1.0 - t * u)
    down[i] = -inverse * (1.0 + t * u)


@helper
def scratch_size(layout, n):
    """Floats of one share's ``Scratch``."""
    return 4 * width(layout) * n + 3 * n + n // BLOCK + 1


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
    u-table built for the step h (the rows that ``tabled_first_change`` reads: those whose
    changes are in the SMALL_STEPS tier); ``shared``: threads will read it."""
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
                if _tier(s, abs(s * h) * reach[row + r]) == SMALL_STEPS:
                    for i in range(n):
                        scaled[i] = s * h * IN[r, i]
                    tanh_into(scaled, U[r], tanh_scratch)
    for i in range(n):
        mass[i] = 0.0
    for j in range(YT.shape[0]):
        for i in range(n):
            mass[i] += YT[j, i]
    E = cached_loss(layout, YT, cache)
    # threads get own copies of Z and A: views into one shared cache make them contend for its
    # reference count
    Z, A = (cache[:total].copy(), AT.copy()) if shared else (cache[:total], AT)
    return ForwardCache(as_flat(XT), as_flat(YT), Z, A, UT, reach, mass, E)


@template(paste=True)
def exact_first_change(code, fc, perturbed, up, down):
    """Changes of a_l[c] for the steps d = h x_ir (x_i0 = 1) and -d, sample by sample by the
    activation's ``change``, into up and down."""
    Z, A, at, h = fc.Z, fc.A, perturbed.unit, perturbed.h
    bias, x, x_at = perturbed.bias, perturbed.inputs, perturbed.x_at
    for i in range(np.uint64(up.shape[0])):
        d = h * (1.0 if bias else x[x_at + i])
        up[i] = hidden.change(code, Z[at + i], A[at + i], d)
        down[i] = hidden.change(code, Z[at + i], A[at + i], -d)


@template(paste=True)
def tabled_first_change(code, fc, perturbed, up, down):
    """The same through u = tanh(s d) (s the activation's ``u_scale``) where the unit's changes
    are in the SMALL_STEPS tier (with reach = max_i |x_ir|): u from the u-table when it was
    built for this h, else computed; in the TINY_STEPS tier by ``_tiny_change``, without u;
    in the EXACT tier by ``exact_first_change``."""
    scale = hidden.u_scale(code)
    h, A, at = perturbed.h, fc.A, perturbed.unit
    bias, x, x_at = perturbed.bias, perturbed.inputs, perturbed.x_at
    tier = _tier(scale, abs(scale * h) * perturbed.reach)
    n = np.uint64(up.shape[0])
    if tier == EXACT:
        exact_first_change(code, fc, perturbed, up, down)
    elif tier == TINY_STEPS:
        for i in range(n):
            v = scale * h * (1.0 if bias else x[x_at + i])
            up[i] = _tiny_change(code, A[at + i], v)
            down[i] = _tiny_change(code, A[at + i], -v)
    elif bias or perturbed.tabled:
        u_bias, U, u_at = tanh_near_zero(scale * h), fc.U, perturbed.u_at
        for i in range(n):
            u = U[u_at + i]  # read for a bias too (row r = 0's, in bounds), so that a select takes it, not a branch
            _tilted_changes(code, A[at + i], u_bias if bias else u, up, down, i)
    else:
        for i in range(n):
            _tilted_changes(code, A[at + i], tanh_near_zero(scale * h * x[x_at + i]), up, down, i)


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


@template(borrowing=True)
def _propagate(theta, layout, l, c, fc, scratch):
    """Changes of z_L in scratch.dz_up and dz_down, from the changes of a_l[c] in its up and
    down, through the layers l+1 .. L: each unit's in its tier (``_tier``), in a loop without
    branches, which the compiler vectorises."""
    n = scratch.up.shape[0]
    last = layout.shape[0] - 1
    da_up, da_down, dz_up, dz_down = scratch.da_up, scratch.da_down, scratch.dz_up, scratch.dz_down
    rows = 1  # da_up/da_down hold changes of `rows` units of layer k-1 (just unit c when k = l+1)
    for k in range(l + 1, last + 1):
        W = layer_weights(theta, layout, k)
        first = c + 1 if k == l + 1 else 1  # the weights of the rows that changed
        units_k = layout[k, N_OUT]
        dz_up[:units_k] = 0.0
        dz_down[:units_k] = 0.0
        add_products(da_up[:rows], W[first:first + rows], dz_up[:units_k])
        add_products(da_down[:rows], W[first:first + rows], dz_down[:units_k])
        if k < last:
            code = layout[k, ACTIVATION]
            scale = hidden.u_scale(code)
            Zk, Ak = block(fc.Z, layout, k, n), block(fc.A, layout, k, n)
            for j in range(units_k):
                tier = _tier(scale, scale * _largest(dz_up[j], dz_down[j]))
                if tier == TINY_STEPS:
                    for i in range(n):
                        da_up[j, i] = _tiny_change(code, Ak[j, i], scale * dz_up[j, i])
                        da_down[j, i] = _tiny_change(code, Ak[j, i], scale * dz_down[j, i])
                elif tier == SMALL_STEPS:
                    for i in range(n):  # the changes' own formula, without a branch per sample
                        da_up[j, i] = _small_change(code, Ak[j, i], scale * dz_up[j, i])
                        da_down[j, i] = _small_change(code, Ak[j, i], scale * dz_down[j, i])
                else:
                    for i in range(n):
                        da_up[j, i] = hidden.change(code, Zk[j, i], Ak[j, i], dz_up[j, i])
                        da_down[j, i] = hidden.change(code, Zk[j, i], Ak[j, i], dz_down[j, i])
            rows = units_k


@template(paste=True)
def through_the_layers_above(theta, layout, perturbed, fc, scratch):
    """Add l_i(+) - l_i(-) for a change of a_l[c] in scratch.up and down that reaches the
    output through hidden layers l+1 .. L-1 (``deeper`` in nets with two or more hidden layers)."""
    n = scratch.up.shape[0]
    last = layout.shape[0] - 1
    code = layout[last, ACTIVATION]
    obase = n * layout[last, CACHE_OFFSET]
    _propagate(theta, layout, perturbed.l, perturbed.c, fc, scratch)
    Z, A, YT, dz_up, dz_down = fc.Z, fc.A, fc.YT, scratch.dz_up, scratch.dz_down
    for j in range(layout[last, N_OUT]):
        oj, yj = np.uint64(obase + j * n), np.uint64(j * n)
        for i in range(np.uint64(n)):
            _accumulate_unit(code, Z[oj + i], A[oj + i], YT[yj + i], dz_up[j, i], dz_down[j, i], i, scratch.diff,
                             scratch.acc)


@template(paste=True)
def no_layers_above(theta, layout, perturbed, fc, scratch):
    """``deeper`` in nets with one hidden layer, where every change of a hidden unit reaches
    the output directly (rank one), so this is never called: nothing to compile."""


@template(borrowing=True)
def entry_differences(theta, layout, steps, symmetric, h_table, entries, first, stride, fc, scratch, out):
    """out[k] = E(theta + s_k e_q) - E(theta - s_k e_q) (``symmetric``) or E(theta + s_k e_q) - E(theta),
    q = entries[k], for k = first, first + stride, ... by incremental re-evaluation from the
    ForwardCache ``fc`` in the share's ``scratch``; the u-table serves the steps equal to h_table."""
    XT, YT, Z, A = fc.XT, fc.YT, fc.Z, fc.A
    up, down, diff, acc = scratch.up, scratch.down, scratch.diff, scratch.acc
    n = fc.mass.shape[0]
    nu = np.uint64(n)
    p = YT.shape[0] // n
    last = layout.shape[0] - 1
    code = layout[last, ACTIVATION]
    obase = n * layout[last, CACHE_OFFSET]
    for k in range(first, entries.shape[0], stride):
        h, q = steps[k], entries[k]
        l = 0
        while l < last and q >= layout[l + 1, THETA_OFFSET]:
            l += 1
        r, c = divmod(q - layout[l, THETA_OFFSET], layout[l, N_OUT])
        row = inputs_below(layout, l) + max(r - 1, 0)  # the weight's input row, among the u-table's
        reach = 1.0 if r == 0 or l == last else fc.reach[row]  # (no u-table for the output layer)
        perturbed = Perturbed(l, c, h, r == 0, h == h_table, reach,
                              np.uint64(n * (layout[l, CACHE_OFFSET] + c)), XT if l == 0 else A,
                              np.uint64((0 if l == 0 else n * layout[l - 1, CACHE_OFFSET]) + n * max(r - 1, 0)),
                              np.uint64(n * row))
        loss.begin(diff, acc)
        if l == last:  # only output unit c moves, by d_i
            zc, yc, bias, x, x_at = perturbed.unit, np.uint64(c * n), perturbed.bias, perturbed.inputs, perturbed.x_at
            for i in range(nu):
                d = h * (1.0 if bias else x[x_at + i])
                _accumulate_unit(code, Z[zc + i], A[zc + i], YT[yc + i], d, -d if symmetric else 0.0, i, diff, acc)
        else:
            first_change(layout[l, ACTIVATION], fc, perturbed, up, down)
            if not symmetric:  # the second point is theta: no change
                for i in range(nu):
                    down[i] = 0.0
            if l == last - 1:  # rank one: dz_L[j] = da_l[c] W_L[c+1, j]
                wbase = layout[last, THETA_OFFSET] + (c + 1) * layout[last, N_OUT]
                for j in range(p):
                    w = theta[wbase + j]
                    oj, yj = np.uint64(obase + j * n), np.uint64(j * n)
                    for i in range(nu):
                        _accumulate_unit(code, Z[oj + i], A[oj + i], YT[yj + i], up[i] * w, down[i] * w, i, diff, acc)
            else:
                deeper(theta, layout, perturbed, fc, scratch)
        loss.finish(fc.mass, diff, acc)
        out[k] = loss.factor(n, p) * pairwise_sum(diff, n, scratch.partial)


@template(borrowing=True)
def _share(theta, layout, steps, symmetric, h_table, entries, first, stride, fields, floats, out):
    """out[k] for k = first, first + stride, ... (interleaved, so that costly and cheap
    layers are spread evenly), with the share's ``Scratch`` on the private ``floats``
    (``scratch_size``); ``fields``: a ForwardCache's."""
    fc = ForwardCache(*fields)
    n = fc.mass.shape[0]
    w = width(layout)
    changes = as_shape(floats[:4 * w * n], (4, w, n))
    at = 4 * w * n
    scratch = Scratch(changes[0, 0], changes[1, 0], changes[0], changes[1], changes[2], changes[3], floats[at:at + n],
                      as_shape(floats[at + n:at + 3 * n], (2, n)), floats[at + 3 * n:])
    entry_differences(theta, layout, steps, symmetric, h_table, entries, first, stride, fc, scratch, out)


@entry
def incremental_differences(theta, layout, XT, YT, steps, m, h_table, entries, n_shares, work, out):
    """out[k] = E(theta + s_k e_q) - E(theta - m s_k e_q), q = entries[k], m = 1 (symmetric) or
    0 (one-sided), by incremental re-evaluation, dealt out in ``n_shares`` interleaved shares;
    returns E(theta). The u-table is built for the step h_table (other steps compute u per
    sample). ``work``: the caller's workspace of ``workspace_size`` floats, reused from call to
    call (a shorter one, such as np.empty(0), makes the job allocate its own); each further
    share allocates its scratch."""
    n = XT.shape[1]
    size = workspace_size(layout, n)
    if work.shape[0] < size:
        work = np.empty(size)
    fc = prepare(theta, layout, XT, YT, h_table, n_shares > 1, work)
    fields = (fc.XT, fc.YT, fc.Z, fc.A, fc.U, fc.reach, fc.mass, fc.loss)  # numba's threads take no namedtuple
    floats = work[size - scratch_size(layout, n):size]
    for b in prange(n_shares):
        _share(theta, layout, steps, m != 0.0, h_table, entries, b, n_shares, fields,
               floats if b == 0 else np.empty(floats.shape[0]), out)
    return fc.loss
