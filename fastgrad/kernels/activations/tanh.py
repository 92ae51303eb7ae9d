"""tanh: f(z) = tanh z, f' = 1 - f^2.

With u = tanh d, the addition formula gives, without cancellation,
    f(z + d) - f(z) = u (1 - a^2) / (1 + a u),   a = f(z).
It serves small changes, |d| <= SMALL, where f(z + d) - a would cancel; for larger d
there is no cancellation to avoid, and the formula could divide 0 by 0 (a and u both
rounded to +-1 with opposite signs), so the change is tanh(z + d) - a.
"""
import cmath

from ..elementary import SMALL, tanh, tanh_into, tanh_near_zero, tilted_change
from ..jit import helper
from ..views import as_flat


@helper
def activate(code, Z, A, scratch):
    """A = tanh Z, the whole (units, n) block in one vectorised pass (``scratch``: at least
    Z's size of floats)."""
    tanh_into(as_flat(Z), as_flat(A), scratch[:Z.size])


@helper
def times_slope(code, d, z, a):
    return d * (1.0 - a * a)


@helper
def u_scale(code):
    return 1.0


@helper
def tilt(code, a, u):
    """(t, s) with f(z + d) - f(z) = s / (1 + t u)."""
    return a, u * (1.0 - a * a)


@helper
def change(code, z, a, d):
    if abs(d) <= SMALL:
        u = tanh_near_zero(d)
        t, s = tilt(code, a, u)
        return tilted_change(t, s, u)
    return tanh(z + d) - a


@helper
def complex_value(code, z):
    return cmath.tanh(z)
