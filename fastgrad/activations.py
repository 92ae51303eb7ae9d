"""Activation functions, each defined once, by its record in ``fastgrad.registry``:

tanh:     f(z) = tanh z,                f' = 1 - f^2
sigmoid:  f(z) = 1 / (1 + e^-z),        f' = f (1 - f)
relu:     f(z) = max(z, 0),             f' = [z > 0]
softplus: f(z) = log(1 + e^z),          f' = sigmoid(z) = 1 - e^-f
identity: f(z) = z,                     f' = 1
softmax:  f(z)_j = e^z_j / sum_k e^z_k  (output layer only, paired with cross-entropy)

and a user's ``custom.Activation`` wherever a name is taken (its value and slope its own).
"""
from .custom import Activation
from .registry import ACTIVATION, ACTIVATIONS, CUSTOM_CODE

CODES = {r.name: r.code for r in ACTIVATIONS}
HIDDEN = tuple(r.name for r in ACTIVATIONS if r.hidden)
OUTPUT = tuple(r.name for r in ACTIVATIONS if r.output)
ANALYTIC = tuple(r.name for r in ACTIVATIONS if r.smooth)  # infinitely differentiable everywhere


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
    """The kernel code of an activation (CUSTOM_CODE for a custom one)."""
    return CUSTOM_CODE if isinstance(activation, Activation) else CODES[activation]


def value(activation, z):
    """f(z) elementwise (row-wise for softmax)."""
    return activation.values(z) if isinstance(activation, Activation) else ACTIVATION[activation].value(z)


def slope(activation, a, z):
    """f'(z), through a = f(z) for the built-in activations (not defined for softmax, which the
    loss handles); ``z`` is read by custom ones only (None will do for the others)."""
    return activation.slopes(z) if isinstance(activation, Activation) else ACTIVATION[activation].slope(a)
