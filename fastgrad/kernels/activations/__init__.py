"""The activations as kernel formulas: one module each, with the same functions.

Every function takes the layer's activation ``code`` first; only ``mixed`` (nets whose
hidden layers differ) reads it. A module provides

    activate(code, Z, A, bits)   A = f(Z) for a (units, n) block (bits: n int64 of scratch)
    times_slope(code, d, a)      d f'(z), with f' written through a = f(z)
    u_scale(code)                s in u = tanh(s d), the helper of ``tilt``; 0 for none
    change(code, z, a, d)        f(z + d) - f(z) from the cached a, without cancellation
    complex_value(code, z)       f(z) for complex z (the complex step)

and tanh and sigmoid also ``tilt(code, a, u)`` = (t, s) with f(z + d) - f(z) = s / (1 + t u),
u = tanh(s d) (the u-table of the incremental differences).
The readable numpy reference that the tests compare with is ``fastgrad.activations``.
"""
from . import identity, mixed, relu, sigmoid, softmax, tanh

BY_NAME = {"identity": identity, "tanh": tanh, "sigmoid": sigmoid, "relu": relu, "softmax": softmax}


def hidden_formulas(names):
    """The module for a net's hidden layers: the activation they share, or ``mixed``."""
    names = set(names)
    return BY_NAME[names.pop()] if len(names) == 1 else mixed
