"""Hidden layers with different activations: each function dispatches on the layer's code.

Only nets that mix activations use this module, so only they compile every branch.
"""
from .. import codes
from ..jit import helper
from . import identity, relu, sigmoid, tanh


@helper
def activate(code, Z, A, scratch):
    if code == codes.TANH:
        tanh.activate(code, Z, A, scratch)
    elif code == codes.SIGMOID:
        sigmoid.activate(code, Z, A, scratch)
    elif code == codes.RELU:
        relu.activate(code, Z, A, scratch)
    else:
        identity.activate(code, Z, A, scratch)


@helper
def times_slope(code, d, z, a):
    if code == codes.TANH:
        return tanh.times_slope(code, d, z, a)
    if code == codes.SIGMOID:
        return sigmoid.times_slope(code, d, z, a)
    if code == codes.RELU:
        return relu.times_slope(code, d, z, a)
    return d


@helper
def u_scale(code):
    if code == codes.TANH:
        return tanh.u_scale(code)
    if code == codes.SIGMOID:
        return sigmoid.u_scale(code)
    return 0.0


@helper
def tilt(code, a, u):
    """tanh's or sigmoid's tilt (the only codes with u_scale > 0)."""
    if code == codes.TANH:
        return tanh.tilt(code, a, u)
    return sigmoid.tilt(code, a, u)


@helper
def change(code, z, a, d):
    if code == codes.TANH:
        return tanh.change(code, z, a, d)
    if code == codes.SIGMOID:
        return sigmoid.change(code, z, a, d)
    if code == codes.RELU:
        return relu.change(code, z, a, d)
    return d


@helper
def complex_value(code, z):
    """tanh or sigmoid (relu is refused before the complex step); identity otherwise."""
    if code == codes.TANH:
        return tanh.complex_value(code, z)
    if code == codes.SIGMOID:
        return sigmoid.complex_value(code, z)
    return z
