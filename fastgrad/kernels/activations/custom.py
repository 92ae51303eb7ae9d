"""A user's activation as kernel formulas: f = ``value``, f' = ``slope``, both numba-compiled
scalar functions of z, bound per activation by ``formulas`` (compiled in memory: numba would
key a disk cache by names that a changed or another function may share).

Without a formula of its own for f(z + d) - f(z), the change is value(z + d) - a, which
cancels for small d: the incremental strategy is then as accurate as the full one (about
eps |E| / h), not more.
"""
from ..specialise import module_of, template

value = slope = None  # bound per activation by formulas()


@template
def activate(code, Z, A, scratch):
    for j in range(Z.shape[0]):
        for i in range(Z.shape[1]):
            A[j, i] = value(Z[j, i])


@template
def times_slope(code, d, z, a):
    return d * slope(z)


@template
def u_scale(code):
    return 0.0


@template
def change(code, z, a, d):
    return value(z + d) - a


@template
def complex_value(code, z):
    return value(z)


@template
def values_of(Z, out):
    """out = f(Z) for 1-D arrays (the numpy layer's evaluation)."""
    for i in range(Z.shape[0]):
        out[i] = value(Z[i])


@template
def slopes_of(Z, out):
    """out = f'(Z) for 1-D arrays."""
    for i in range(Z.shape[0]):
        out[i] = slope(Z[i])


def formulas(name, f, f_slope):
    """A formulas module (see ``activations/__init__``) named ``name`` for f and f', plus the
    kernels ``values_of`` and ``slopes_of``; kernels that use it compile in memory."""
    module = module_of(f"{__name__}.{name}", (("value", f), ("slope", f_slope)),
                       (activate, times_slope, u_scale, change, complex_value), (values_of, slopes_of))
    module.EXACT_CHANGES = False  # its changes subtract (module docstring)
    return module
