"""Central differences by incremental re-evaluation: only what a perturbation changes.

Perturbing W_l[r, c] by +-h moves column c of z_l by d_i = +-h x_ir (x the layer's
input, x_i0 = 1 for the bias), and nothing below layer l. The forward pass is cached
once per gradient; each entry then propagates *changes* only:

    da_l[c]  = f(z + d) - f(z),  from the cached a = f(z) without cancellation:
               tanh:    u (1 - a^2) / (1 + a u),            u = tanh d
               sigmoid: 2 u s (1 - s) / (1 + (2s - 1) u),   u = tanh(d/2)
               relu, identity: exact;
    dz_(l+1) = da_l[c] (x) W_(l+1)[c+1, :]   (rank one), then dz_k = da_(k-1) W_k[1:] above.

u = tanh(h x_ir) is tabulated once per gradient, so the hidden layers need no
transcendental per entry. The loss difference is formed per sample without
subtracting two nearly equal losses; for squared errors
    l(+) - l(-) = sum_j (do+_j - do-_j)(2 (o_j - y_j) + do+_j + do-_j),
for cross-entropy m (log1p(sum_j p_j expm1(dz+_j)) - log1p(sum_j p_j expm1(dz-_j)))
- sum_j y_j (dz+_j - dz-_j), and the per-sample differences are summed pairwise.

Caches are transposed, (units, n), so the loops over samples are contiguous.
"""
import math

import numpy as np
from numba import prange

from .codes import (ACTIVATION, CACHE_OFFSET, CROSS_ENTROPY, IDENTITY, N_IN, N_OUT, RELU, SIGMOID,
                    SQUARED, TANH, THETA_OFFSET)
from .elementary import tanh_into, tanh_of_small
from .forward import cache_size, cached_loss, forward, loss_scale, units
from .jit import kernel
from .summation import pairwise_sum


@kernel
def _block_t(buffer, layout, l, n):
    """Layer l's transposed (n_out, n) block of a cache."""
    start = n * layout[l, CACHE_OFFSET]
    return buffer[start:start + layout[l, N_OUT] * n].reshape((layout[l, N_OUT], n))


@kernel
def _input_offset(layout, l):
    total = 0
    for k in range(l):
        total += layout[k, N_IN]
    return total


@kernel
def _u_code(code):
    """The activation whose u-table a layer needs (tanh, sigmoid) or IDENTITY for none."""
    return code if code == TANH or code == SIGMOID else IDENTITY


@kernel(inline="always")
def _u_of(code, d):
    """u for d: tanh d (tanh), tanh(d/2) (sigmoid), unused otherwise."""
    if code == TANH:
        return tanh_of_small(d)
    if code == SIGMOID:
        return tanh_of_small(0.5 * d)
    return 0.0


@kernel(inline="always")
def _delta(code, z, a, d, u):
    """f(z + d) - f(z) from the cached a = f(z) and u (see the module docstring)."""
    if code == TANH:
        return u * (1.0 - a * a) / (1.0 + a * u)
    if code == SIGMOID:
        return 2.0 * u * a * (1.0 - a) / (1.0 + (2.0 * a - 1.0) * u)
    if code == RELU:
        if z > 0.0 and z + d > 0.0:
            return d
        return max(z + d, 0.0) - max(z, 0.0)
    return d


@kernel
def prepare(theta, layout, X, Y, loss_code, h):
    """The cached forward pass, transposed and flat: (XT, YT, ZT, AT, UT, mass, E).

    Unit j of a (units, n) block sits at base + j n. XT, YT: inputs and targets; ZT, AT:
    pre-activations and activations of every layer, as forward.py leaves them; UT: u(h x)
    of every layer's inputs; mass: sum_j y_ij; E: the loss at theta.
    """
    n = X.shape[0]
    last = layout.shape[0] - 1
    XT = np.ascontiguousarray(X.T)
    YT = np.ascontiguousarray(Y.T)
    cache = np.empty(cache_size(layout, n))
    forward(theta, layout, XT, cache)
    total = n * units(layout)
    AT = cache[total:2 * total]
    UT = np.empty(n * _input_offset(layout, last + 1))
    scaled = np.empty(n)
    bits = np.empty(n, dtype=np.int64)
    for l in range(last + 1):
        code = layout[l, ACTIVATION]
        if code == TANH or code == SIGMOID:  # u = tanh(h x), or tanh(h x / 2) for sigmoid
            n_in = layout[l, N_IN]
            IN = XT if l == 0 else _block_t(AT, layout, l - 1, n)
            U = UT[n * _input_offset(layout, l):n * _input_offset(layout, l + 1)].reshape((n_in, n))
            half = 1.0 if code == TANH else 0.5
            for r in range(n_in):
                for i in range(n):
                    scaled[i] = half * h * IN[r, i]
                tanh_into(scaled, U[r], bits)
    mass = np.zeros(n)
    for j in range(Y.shape[1]):
        for i in range(n):
            mass[i] += YT[j, i]
    loss = cached_loss(layout, loss_code, YT, cache)
    # own copies of Z and A: views into one shared cache made the threads contend for its
    # reference count (measured: 1.4 ms instead of 1.0 ms at [8, 64, 4] on 2 threads)
    return XT.ravel(), YT.ravel(), cache[:total].copy(), AT.copy(), UT, mass, loss


@kernel
def _output_differences(out_code, loss_code, ZL, AL, YT, mass, Dp, Dm, diff, sp, sm):
    """diff_i = l_i(z + Dp) - l_i(z + Dm) over all output units (unscaled)."""
    p, n = ZL.shape
    if loss_code == CROSS_ENTROPY:
        for i in range(n):
            sp[i] = 0.0
            sm[i] = 0.0
            diff[i] = 0.0
        for j in range(p):
            for i in range(n):
                sp[i] += AL[j, i] * math.expm1(Dp[j, i])
                sm[i] += AL[j, i] * math.expm1(Dm[j, i])
                diff[i] -= YT[j, i] * (Dp[j, i] - Dm[j, i])
        for i in range(n):
            diff[i] += mass[i] * (math.log1p(sp[i]) - math.log1p(sm[i]))
        return
    for i in range(n):
        diff[i] = 0.0
    for j in range(p):
        for i in range(n):
            dp, dm = Dp[j, i], Dm[j, i]
            if out_code == SIGMOID:
                dp = _delta(SIGMOID, ZL[j, i], AL[j, i], dp, tanh_of_small(0.5 * dp))
                dm = _delta(SIGMOID, ZL[j, i], AL[j, i], dm, tanh_of_small(0.5 * dm))
            diff[i] += (dp - dm) * (2.0 * (AL[j, i] - YT[j, i]) + dp + dm)


@kernel(inline="always")
def _column_differences(out_code, loss_code, c, IN, xbase, bias, h, m, ZT, AT, obase, YT, mass, V):
    """diff_i = l_i(W[r, c] + h) - l_i(W[r, c] - m h) for the output layer (one output column
    moves), written to V[i]; the weight's input is IN[xbase + i], or 1 for the bias (bias = 1.0)."""
    n = np.uint64(mass.shape[0])  # unsigned offsets: no negative-index checks, so loops vectorise
    zc, yc, xbase = np.uint64(obase + c * n), np.uint64(c * n), np.uint64(xbase)
    if loss_code != CROSS_ENTROPY and out_code == IDENTITY:  # (r + d)^2 - (r - m d)^2
        for i in range(n):
            d = h * (bias + (1.0 - bias) * IN[xbase + i])
            V[i] = (1.0 + m) * d * (2.0 * (AT[zc + i] - YT[yc + i]) + (1.0 - m) * d)
        return
    for i in range(n):
        d = h * (bias + (1.0 - bias) * IN[xbase + i])
        if loss_code == CROSS_ENTROPY:
            pc = AT[zc + i]
            V[i] = mass[i] * (math.log1p(pc * math.expm1(d)) - math.log1p(pc * math.expm1(-m * d))) \
                - YT[yc + i] * (1.0 + m) * d
        else:
            u = tanh_of_small(0.5 * d)
            dp = _delta(SIGMOID, ZT[zc + i], AT[zc + i], d, u)
            dm = _delta(SIGMOID, ZT[zc + i], AT[zc + i], -m * d, -m * u)
            V[i] = (dp - dm) * (2.0 * (AT[zc + i] - YT[yc + i]) + dp + dm)


@kernel(inline="always")
def _first_change(code, ZT, AT, zbase, UT, ubase, IN, xbase, bias, h, m, table, V):
    """Changes of a_l[c] (at zbase in ZT, AT) for steps +h and -m h: one loop per activation,
    so that each vectorises. The weight's input is IN[xbase + i], or 1 for the bias (bias =
    1.0); u comes from the u-table UT[ubase + i] when it was built for this h (``table``).
    The changes go to V[n + i] (+h) and V[2n + i] (-m h)."""
    n = np.uint64(V.shape[0] // 4)  # unsigned offsets: no negative-index checks, so loops vectorise
    dp_, dm_ = n, 2 * n
    zbase, ubase, xbase = np.uint64(zbase), np.uint64(ubase), np.uint64(xbase)
    ucode = _u_code(code)
    if (code == TANH or code == SIGMOID) and not (table or bias == 1.0):
        for i in range(n):  # a step the u-table was not built for: u per sample
            d = h * IN[xbase + i]
            V[dp_ + i] = _delta(code, ZT[zbase + i], AT[zbase + i], d, _u_of(ucode, d))
            V[dm_ + i] = _delta(code, ZT[zbase + i], AT[zbase + i], -m * d, -m * _u_of(ucode, d))
    elif code == TANH or code == SIGMOID:
        u_bias = _u_of(ucode, h)
        for i in range(n):
            u = bias * u_bias + (1.0 - bias) * UT[ubase + i]
            a = AT[zbase + i]
            t = a if code == TANH else 2.0 * a - 1.0
            s = u * (1.0 - t * t) if code == TANH else 2.0 * u * a * (1.0 - a)
            inverse = s / ((1.0 + t * u) * (1.0 - t * u))  # one division for both signs
            V[dp_ + i] = inverse * (1.0 - t * u)
            V[dm_ + i] = -m * inverse * (1.0 + t * u)
    elif code == RELU:
        for i in range(n):
            d = h * (bias + (1.0 - bias) * IN[xbase + i])
            V[dp_ + i] = _delta(RELU, ZT[zbase + i], AT[zbase + i], d, 0.0)
            V[dm_ + i] = _delta(RELU, ZT[zbase + i], AT[zbase + i], -m * d, 0.0)
    else:
        for i in range(n):
            d = h * (bias + (1.0 - bias) * IN[xbase + i])
            V[dp_ + i] = d
            V[dm_ + i] = -m * d


@kernel(inline="always")
def _rank_one_squared(theta, wbase, p, AT, obase, YT, V):
    """Squared-error differences when only a_(L-1)[c] moved, with an identity output:
    dz_j = da w_j (w_j = theta[wbase + j]), and
    l(+) - l(-) = sum_j (dz+_j - dz-_j)(2 (o_j - y_j) + dz+_j + dz-_j),
    reading the changes of a from V[n + i], V[2n + i] and writing the differences to V[i]."""
    n = np.uint64(V.shape[0] // 4)  # unsigned offsets: no negative-index checks, so loops vectorise
    for i in range(n):
        V[i] = 0.0
    for j in range(p):
        w = theta[wbase + j]
        oj, yj = np.uint64(obase) + np.uint64(j) * n, np.uint64(j) * n
        for i in range(n):
            dp = V[n + i] * w
            dm = V[2 * n + i] * w
            V[i] += (dp - dm) * (2.0 * (AT[oj + i] - YT[yj + i]) + dp + dm)


@kernel
def _scratch(layout, n):
    """Per-worker buffers: S, (4, width, n) changes of two layers for both signs; V, one flat
    vector of 4n: differences, changes for +h and -m h, and pairwise-sum partials."""
    width = 1
    for l in range(layout.shape[0]):
        width = max(width, layout[l, N_OUT])
    return np.empty((4, width, n)), np.empty(4 * n + 2)


@kernel(inline="always")
def entry_difference(theta, layout, loss_code, h, m, table, q, XT, YT, ZT, AT, UT, mass, S, V):
    """E(theta + h e_q) - E(theta - m h e_q) by incremental re-evaluation: m = 1 for a
    symmetric pair, m = 0 for a one-sided difference. ``table``: the u-table is for this h.
    S, V: scratch from ``_scratch``, passed as plain arrays (no per-entry views on the fast paths)."""
    n = mass.shape[0]
    p = YT.shape[0] // n
    last = layout.shape[0] - 1
    l = 0
    while l < last and q >= layout[l + 1, THETA_OFFSET]:
        l += 1
    n_out = layout[l, N_OUT]
    r, c = divmod(q - layout[l, THETA_OFFSET], n_out)
    bias = 1.0 if r == 0 else 0.0
    IN = XT if l == 0 else AT  # the perturbed weight's input row starts at xbase
    xbase = (0 if l == 0 else n * layout[l - 1, CACHE_OFFSET]) + n * max(r - 1, 0)
    out_code = layout[last, ACTIVATION]
    obase = n * layout[last, CACHE_OFFSET]
    if l == last:
        _column_differences(out_code, loss_code, c, IN, xbase, bias, h, m, ZT, AT, obase, YT, mass, V)
        return _scaled_sum(loss_code, n, p, V)
    code = layout[l, ACTIVATION]
    ubase = n * (_input_offset(layout, l) + max(r - 1, 0))
    _first_change(code, ZT, AT, n * (layout[l, CACHE_OFFSET] + c), UT, ubase, IN, xbase, bias, h, m, table, V)
    if l == last - 1 and out_code == IDENTITY and loss_code != CROSS_ENTROPY:
        wbase = layout[last, THETA_OFFSET] + (c + 1) * layout[last, N_OUT]
        _rank_one_squared(theta, wbase, p, AT, obase, YT, V)
        return _scaled_sum(loss_code, n, p, V)
    Ap, Am, Bp, Bm = S[0], S[1], S[2], S[3]
    diff, sp, sm = V[:n], V[n:2 * n], V[2 * n:3 * n]
    Ap[0, :] = sp
    Am[0, :] = sm
    rows = 1  # Ap/Am hold changes of `rows` units of layer k-1 (just unit c when k = l+1)
    for k in range(l + 1, last + 1):
        start = layout[k, THETA_OFFSET]
        k_in, k_out = layout[k, N_IN], layout[k, N_OUT]
        W = theta[start:start + (k_in + 1) * k_out].reshape((k_in + 1, k_out))
        for j in range(k_out):
            for i in range(n):
                Bp[j, i] = 0.0
                Bm[j, i] = 0.0
            for m in range(rows):
                w = W[(c if k == l + 1 else m) + 1, j]
                for i in range(n):
                    Bp[j, i] += Ap[m, i] * w
                    Bm[j, i] += Am[m, i] * w
        if k < last:
            kcode = layout[k, ACTIVATION]
            ucode = _u_code(kcode)
            Zk, Ak = _block_t(ZT, layout, k, n), _block_t(AT, layout, k, n)
            for j in range(k_out):
                for i in range(n):
                    dp, dm = Bp[j, i], Bm[j, i]
                    Ap[j, i] = _delta(kcode, Zk[j, i], Ak[j, i], dp, _u_of(ucode, dp))
                    Am[j, i] = _delta(kcode, Zk[j, i], Ak[j, i], dm, _u_of(ucode, dm))
            rows = k_out
    _output_differences(out_code, loss_code, _block_t(ZT, layout, last, n), _block_t(AT, layout, last, n),
                        YT.reshape((p, n)), mass, Bp, Bm, diff, sp, sm)
    return _scaled_sum(loss_code, n, p, V)


@kernel(inline="always")
def _scaled_sum(loss_code, n, p, V):
    """The loss difference from per-sample differences: scale * pairwise sum (1/2 for squared)."""
    half = 0.5 if loss_code == SQUARED else 1.0
    return half * loss_scale(loss_code, n, p) * pairwise_sum(V, n, V, 3 * n)


@kernel
def _difference_share(theta, layout, loss_code, steps, m, h_table, entries, first, stride, cache, out):
    """out[k] = E(theta + steps[k] e_q) - E(theta - m steps[k] e_q), q = entries[k], for
    k = first, first + stride, ... (interleaved, so that costly and cheap layers are spread
    evenly), with private scratch."""
    XT, YT, ZT, AT, UT, mass, _ = cache
    S, V = _scratch(layout, mass.shape[0])
    for k in range(first, entries.shape[0], stride):
        out[k] = entry_difference(theta, layout, loss_code, steps[k], m, steps[k] == h_table, entries[k],
                                  XT, YT, ZT, AT, UT, mass, S, V)


@kernel
def incremental_differences_serial(theta, layout, X, Y, loss_code, steps, m, h_table, entries):
    """E(theta + s_k e_q) - E(theta - m s_k e_q) for every entry, one after another, and
    E(theta); the u-table is built for the step h_table (other steps compute u per sample)."""
    cache = prepare(theta, layout, X, Y, loss_code, h_table)
    out = np.empty(entries.shape[0])
    _difference_share(theta, layout, loss_code, steps, m, h_table, entries, 0, 1, cache, out)
    return out, cache[6]


@kernel(parallel=True)
def incremental_differences_parallel(theta, layout, X, Y, loss_code, steps, m, h_table, entries, n_shares):
    """The same, the entries dealt out in ``n_shares`` interleaved shares over threads."""
    cache = prepare(theta, layout, X, Y, loss_code, h_table)
    out = np.empty(entries.shape[0])
    for b in prange(n_shares):
        _difference_share(theta, layout, loss_code, steps, m, h_table, entries, b, n_shares, cache, out)
    return out, cache[6]


@kernel
def incremental_gradient_serial(theta, layout, X, Y, loss_code, h, entries, grad):
    """Central differences with the step h for theta[entries] into ``grad``, serially;
    returns E(theta)."""
    out, loss = incremental_differences_serial(theta, layout, X, Y, loss_code, np.full(entries.shape[0], h),
                                               1.0, h, entries)
    grad[:] = out / (2.0 * h)
    return loss


@kernel
def incremental_gradient_parallel(theta, layout, X, Y, loss_code, h, entries, n_shares, grad):
    """The same over threads."""
    out, loss = incremental_differences_parallel(theta, layout, X, Y, loss_code, np.full(entries.shape[0], h),
                                                 1.0, h, entries, n_shares)
    grad[:] = out / (2.0 * h)
    return loss
