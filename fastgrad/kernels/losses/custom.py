"""A user's loss as kernel formulas: E = (1/n) sum_i sum_j l(o_ij, y_ij) with l = ``value`` and
dl/do = ``slope``, numba-compiled scalar functions of (o, y), bound per loss by ``formulas``
(compiled in memory, as custom activations are). The difference of two sample losses is
l(o + do+, y) - l(o + do-, y), which cancels for small changes (see activations/custom.py).
"""
from ..specialise import module_of, template
from .squared_errors import begin, finish

value = slope = None  # bound per loss by formulas()


@template
def factor(n, p):
    return 1.0 / n


@template
def sample(Z, A, YT, i):
    s = 0.0
    for j in range(YT.shape[0]):
        s += value(A[j, i], YT[j, i])
    return s


@template
def delta(a, YT, j, i, n, p):
    return (1.0 / n) * slope(a, YT[j, i])


@template
def accumulate(a, y, dp, dm, i, diff, acc):
    diff[i] += value(a + dp, y) - value(a + dm, y)


@template
def complex_sample(A, YT, i):
    s = 0.0j
    for j in range(YT.shape[0]):
        s += value(A[j, i], YT[j, i])
    return s


@template
def values_of(O, Y, out):
    """out = l(O, Y) for 1-D arrays (the numpy layer's evaluation)."""
    for i in range(O.shape[0]):
        out[i] = value(O[i], Y[i])


@template
def slopes_of(O, Y, out):
    """out = dl/do (O, Y) for 1-D arrays."""
    for i in range(O.shape[0]):
        out[i] = slope(O[i], Y[i])


def formulas(name, l, l_slope):
    """A formulas module (see ``losses/__init__``) named ``name`` for l and dl/do, plus the
    kernels ``values_of`` and ``slopes_of``; kernels that use it compile in memory."""
    module = module_of(f"{__name__}.{name}", (("value", l), ("slope", l_slope)),
                       (factor, sample, delta, accumulate, complex_sample), (values_of, slopes_of))
    module.begin, module.finish = begin, finish
    module.EXACT_CHANGES = False  # its differences subtract (module docstring)
    return module
