"""softplus: f(z) = log(1 + e^z) = max(z, 0) + log1p(e^-|z|), f' = sigmoid(z) = 1 - e^-f.

With sigma = sigmoid(z) = -expm1(-a), a = f(z), without cancellation
    f(z + d) - f(z) = log((1 + e^(z+d)) / (1 + e^z)) = log1p(sigma expm1(d)).
It serves |d| <= SMALL, where f(z + d) - a would cancel; there the argument of log1p
stays above -(1 - e^-SMALL) > -0.47. Larger changes are f(z + d) - a, as for tanh.
"""
import cmath
import math

from ..elementary import SMALL
from ..jit import helper
from ..views import as_flat


@helper
def softplus(x):
    """log(1 + e^x), without overflow."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@helper
def activate(code, Z, A, scratch):
    """A = softplus Z over the whole (units, n) block, flat."""
    z, out = as_flat(Z), as_flat(A)
    for i in range(z.shape[0]):
        out[i] = softplus(z[i])


@helper
def times_slope(code, d, z, a):
    return d * -math.expm1(-a)


@helper
def u_scale(code):
    return 0.0


@helper
def change(code, z, a, d):
    if abs(d) <= SMALL:
        return math.log1p(-math.expm1(-a) * math.expm1(d))
    return softplus(z + d) - a


@helper
def _log1p(w):
    """log(1 + w) for complex w, its real part 1/2 log1p(2 x + x^2 + y^2) without cancellation."""
    return complex(0.5 * math.log1p(w.real * (2.0 + w.real) + w.imag * w.imag), math.atan2(w.imag, 1.0 + w.real))


@helper
def complex_value(code, z):
    """log(1 + e^z) = z + log(1 + e^-z) for Re z > 0, as ``softplus``."""
    if z.real > 0.0:
        return z + _log1p(cmath.exp(-z))
    return _log1p(cmath.exp(z))
