"""Activation functions: each defined once, with its derivative and its kernel code.

tanh:     f(z) = tanh z,                f' = 1 - f^2
sigmoid:  f(z) = 1 / (1 + e^-z),        f' = f (1 - f)
relu:     f(z) = max(z, 0),             f' = [z > 0]
identity: f(z) = z,                     f' = 1
softmax:  f(z)_j = e^z_j / sum_k e^z_k  (output layer only, paired with cross-entropy)

and a user's ``custom.Activation`` wherever a name is taken (its value and slope its own).
"""
import numpy as np

from .custom import Activation
from .kernels import codes


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


_VALUE = {
    "identity": lambda z: z,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda z: np.maximum(z, 0.0),
    "softmax": _softmax,
}

_SLOPE_FROM_VALUE = {
    "identity": lambda a: np.ones_like(a),
    "tanh": lambda a: 1.0 - a * a,
    "sigmoid": lambda a: a * (1.0 - a),
    "relu": lambda a: (a > 0.0).astype(np.float64),
}

CODES = {
    "identity": codes.IDENTITY,
    "tanh": codes.TANH,
    "sigmoid": codes.SIGMOID,
    "relu": codes.RELU,
    "softmax": codes.SOFTMAX,
}
HIDDEN = ("tanh", "sigmoid", "relu", "identity")
OUTPUT = ("identity", "sigmoid", "softmax")
ANALYTIC = ("tanh", "sigmoid", "identity", "softmax")  # infinitely differentiable everywhere


def check_name(name, allowed, argument):
    """Return ``name`` if it is one of ``allowed`` or a custom Activation, else raise a
    ValueError naming ``argument``."""
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str) or name not in allowed:
        raise ValueError(f"{argument}: unknown activation {name!r}; expected one of {', '.join(allowed)} "
                         "or a fastgrad.Activation")
    return name


def code(activation):
    """The kernel code of an activation (CUSTOM for a custom one)."""
    return codes.CUSTOM if isinstance(activation, Activation) else CODES[activation]


def value(activation, z):
    """f(z) elementwise (row-wise for softmax)."""
    return activation.values(z) if isinstance(activation, Activation) else _VALUE[activation](z)


def slope(activation, a, z):
    """f'(z), through a = f(z) for the built-in activations (not defined for softmax, which the
    loss handles); ``z`` is read by custom ones only (None will do for the others)."""
    return activation.slopes(z) if isinstance(activation, Activation) else _SLOPE_FROM_VALUE[activation](a)
