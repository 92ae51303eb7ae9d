"""A user's own activation or loss for the MLP, from numba-compiled scalar functions:

    Activation(name, value, slope)   f(z) = value(z),  f'(z) = slope(z)
    Loss(name, value, slope)         E = (1/n) sum_i sum_j l(o_ij, y_ij),  l = value(o, y),
                                     dl/do = slope(o, y)

Every path takes them: backprop (compiled and numpy), the numerical strategies, training and,
where ``value`` also accepts complex numbers, the complex step. Their kernels are compiled for
them in memory, once per process (kernels/activations/custom.py, kernels/losses/custom.py).
"""
from __future__ import annotations

import numpy as np
from numba.core.registry import CPUDispatcher

from .kernels.activations import custom as custom_activation
from .kernels.losses import custom as custom_loss
from .registry import ACTIVATION, LOSS

RESERVED = tuple(ACTIVATION) + tuple(LOSS)


class _Custom:
    """What Activation and Loss share: a name, ``value`` and ``slope`` (numba-compiled,
    checked at ``SAMPLE``, a point of real arguments) and their kernel formulas (``KERNELS``)."""
    SAMPLE: tuple = ()
    KERNELS = None

    def __init__(self, name: str, value: CPUDispatcher, slope: CPUDispatcher):
        self.name = _check_name(name)
        self.value = _check_function("value", value, name, self.SAMPLE)
        self.slope = _check_function("slope", slope, name, self.SAMPLE)
        self.formulas = self.KERNELS.formulas(self.name, self.value, self.slope)

    def complex_failure(self) -> str | None:
        """Why ``value`` cannot take a complex first argument (the complex step), or None."""
        try:
            self.value(self.SAMPLE[0] + 0.1j, *self.SAMPLE[1:])
        except Exception as exc:
            return _first_line(exc)
        return None

    def __str__(self):
        return self.name

    def __reduce__(self):
        """Pickled as its name and functions; unpickled, its kernel formulas are built anew."""
        return type(self), (self.name, self.value, self.slope)

    def __copy__(self):
        return self  # immutable: a copy (of a net, say) shares it and its compiled kernels

    def __deepcopy__(self, memo):
        return self

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"


class Activation(_Custom):
    """``Activation(name, value, slope)``: f(z) = value(z) with derivative slope(z), both
    ``@numba.njit`` functions of one float; usable as ``MLP(hidden=...)`` (for every hidden
    layer) or ``MLP(output=...)``. Example: ``Activation("softsign", softsign, softsign_slope)``."""
    SAMPLE = (0.5,)
    KERNELS = custom_activation

    def values(self, Z: np.ndarray) -> np.ndarray:
        """f(Z) elementwise."""
        return _elementwise(self.formulas.values_of, Z)

    def slopes(self, Z: np.ndarray) -> np.ndarray:
        """f'(Z) elementwise."""
        return _elementwise(self.formulas.slopes_of, Z)


class Loss(_Custom):
    """``Loss(name, value, slope)``: E = (1/n) sum over samples i and outputs j of
    value(o_ij, y_ij), with slope(o, y) = d value / d o; both ``@numba.njit`` functions of two
    floats; usable wherever a loss name is (not with a softmax output)."""
    SAMPLE = (0.5, 0.25)
    KERNELS = custom_loss

    def values(self, O: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """l(O, Y) elementwise."""
        return _elementwise(self.formulas.values_of, O, Y)

    def slopes(self, O: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """dl/do (O, Y) elementwise."""
        return _elementwise(self.formulas.slopes_of, O, Y)


def _check_name(name):
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name: expected a name such as 'softsign', got {name!r}")
    if name in RESERVED:
        raise ValueError(f"name: {name!r} is fastgrad's own; give yours another name")
    return name


def _check_function(role, function, name, arguments):
    """``function`` if it is numba-compiled and gives a real number at ``arguments``."""
    if not isinstance(function, CPUDispatcher):
        raise ValueError(f"{role}: {name}'s {role} must be a numba-compiled function (@numba.njit), "
                         f"got {type(function).__name__}")
    try:
        result = function(*arguments)
    except Exception as exc:
        raise ValueError(f"{role}: {name}'s {role} failed at {arguments}: {_first_line(exc)}") from None
    if not isinstance(result, (float, int, np.floating, np.integer)) or isinstance(result, bool):
        raise ValueError(f"{role}: {name}'s {role} must return one real number, got {type(result).__name__}")
    return function


def _first_line(exc):
    """The first line of an error (numba's typing errors run to many)."""
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)


def _elementwise(kernel, *arrays):
    """kernel(*flat arrays, out) reshaped like the first array."""
    flat = [np.ascontiguousarray(a, dtype=np.float64).ravel() for a in np.broadcast_arrays(*arrays)]
    out = np.empty_like(flat[0])
    kernel(*flat, out)
    return out.reshape(np.shape(arrays[0]))
