"""sigmoid: f(z) = 1 / (1 + e^-z), f' = f (1 - f).

f(z) = (1 + tanh(z/2)) / 2, so with u = tanh(d/2), without cancellation,
    f(z + d) - f(z) = 2 u a (1 - a) / (1 + (2a - 1) u),   a = f(z),
for |d/2| <= SMALL and, as for tanh, sigmoid(z + d) - a above.
"""
import cmath

from ..elementary import SMALL, sigmoid, sigmoid_into, tanh_near_zero, tilted_change
from ..jit import helper
from ..views import as_flat


@helper
def activate(code, Z, A, scratch):
    """A = sigmoid Z, the whole (units, n) block in one vectorised pass (``scratch``: at least
    Z's size of floats)."""
    sigmoid_into(as_flat(Z), as_flat(A), scratch[:Z.size])


@helper
def times_slope(code, d, z, a):
    return d * (a * (1.0 - a))


@helper
def u_scale(code):
    return 0.5


@helper
def tilt(code, a, u):
    """(t, s) with f(z + d) - f(z) = s / (1 + t u)."""
    return 2.0 * a - 1.0, 2.0 * u * a * (1.0 - a)


@helper
def change(code, z, a, d):
    if abs(0.5 * d) <= SMALL:
        u = tanh_near_zero(0.5 * d)
        t, s = tilt(code, a, u)
        return tilted_change(t, s, u)
    return sigmoid(z + d) - a


@helper
def complex_value(code, z):
    return 1.0 / (1.0 + cmath.exp(-z))
