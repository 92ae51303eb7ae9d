"""The built-in activations and losses: one record each, and everything derived from them.

A record names the kernel formulas (a module of ``kernels/activations`` or ``kernels/losses``)
and the readable numpy reference that the tests hold them to, and says where the function
may stand and how exact its changes are. The public tables (``activations.HIDDEN``,
``losses.NAMES``, ...), the kernels' ``BY_NAME`` and ``mixed`` dispatch, the CLI's choices
and the names in weights files are all derived from these records. A new built-in needs its
formulas module and one record here.

The records hand the kernels what they need (``_install``): the kernels import nothing
from the rest of fastgrad. The codes of ``mixed``'s dispatch come from here, so a kernel
cache keyed by the content of the kernels' sources must include this file.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import Callable

import numpy as np

from .kernels import activations as activation_formulas, losses as loss_formulas
from .kernels.activations import identity, relu, sigmoid, softmax, softplus, tanh
from .kernels.losses import cross_entropy, mse, squared

CUSTOM_CODE = 5  # the layer code of a user's activation (its formulas are its own; nothing dispatches on it)


@dataclass(frozen=True)
class ActivationRecord:
    """A built-in activation f.

    name : the name in the API, on the command line and in weights files
    formulas : its kernel formulas (the contract: ``kernels/activations/__init__``)
    code : its layer code in the layout table (unique; ``mixed`` dispatches on it)
    value : numpy reference, Z -> f(Z) elementwise (row-wise for softmax)
    slope : numpy reference, a = f(z) -> f'(z); None where the loss takes the slope (softmax)
    scalar : f of one float with ``math`` (the plain-Python baseline); the logit for softmax
    hidden, output : where it may stand
    smooth : analytic on the real line: the complex step and hsweep's complex rows apply
    exact_change : its ``change`` is free of cancellation (the incremental strategy's ~1e-13)
    """
    name: str
    formulas: ModuleType
    code: int
    value: Callable[[np.ndarray], np.ndarray]
    slope: Callable[[np.ndarray], np.ndarray] | None
    scalar: Callable[[float], float]
    hidden: bool
    output: bool
    smooth: bool
    exact_change: bool = True

    @property
    def choice(self) -> str:
        """Its choice on the command line."""
        return self.name


@dataclass(frozen=True)
class LossRecord:
    """A built-in loss E, for n samples with p outputs (``fastgrad.losses`` states the math).

    name : the name in the API and on the command line
    formulas : its kernel formulas (the contract: ``kernels/losses/__init__``)
    value : numpy reference, (Z, Y, outputs) -> E from the output pre-activations Z and targets
        Y; ``outputs``: Z -> O = f(Z), the output activation
    delta : numpy reference, (Z, Y, outputs, slopes) -> dE/dZ; ``slopes``: (O, Z) -> f'(Z)
    scalar_sample : l_i over lists with ``math``, (z_i, y_i, f) -> l_i from the output
        pre-activations z_i (the plain-Python baseline)
    scalar_mean : (sum_i l_i, n, p) -> E
    pairs_with : the output activation it needs and that needs it (None: any but such outputs)
    exact_change : its differences of sample losses are free of cancellation
    """
    name: str
    formulas: ModuleType
    value: Callable[..., float]
    delta: Callable[..., np.ndarray]
    scalar_sample: Callable[..., float]
    scalar_mean: Callable[[float, int, int], float]
    pairs_with: str | None = None
    exact_change: bool = True

    @property
    def choice(self) -> str:
        """Its choice on the command line."""
        return self.name


def _sigmoid(z):
    """1 / (1 + e^-z) without overflow."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(z):
    """log(1 + e^z) = max(z, 0) + log1p(e^-|z|) without overflow."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _log_softmax(Z):
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# In the order of the CLI's choices; the last hidden record (identity) is mixed's fallback
# for the codes of modules without a function (``kernels/activations/mixed``).
ACTIVATIONS = (
    ActivationRecord("tanh", tanh, 1, np.tanh, lambda a: 1.0 - a * a, math.tanh,
                     hidden=True, output=False, smooth=True),
    ActivationRecord("sigmoid", sigmoid, 2, _sigmoid, lambda a: a * (1.0 - a),
                     lambda z: 0.5 * (1.0 + math.tanh(0.5 * z)),  # = 1/(1+e^-z), without overflow
                     hidden=True, output=True, smooth=True),
    ActivationRecord("relu", relu, 3, lambda z: np.maximum(z, 0.0), lambda a: (a > 0.0).astype(np.float64),
                     lambda z: z if z > 0.0 else 0.0, hidden=True, output=False, smooth=False),
    ActivationRecord("softplus", softplus, 6, _softplus, lambda a: -np.expm1(-a),
                     lambda z: max(z, 0.0) + math.log1p(math.exp(-abs(z))), hidden=True, output=False, smooth=True),
    ActivationRecord("identity", identity, 0, lambda z: z, np.ones_like, lambda z: z,
                     hidden=True, output=True, smooth=True),
    ActivationRecord("softmax", softmax, 4, _softmax, None, lambda z: z,  # logits: the loss normalises them
                     hidden=False, output=True, smooth=True),
)


def _squared_value(Z, Y, outputs):
    r = outputs(Z) - Y
    return float(0.5 * (r * r).sum() / Z.shape[0])


def _squared_delta(Z, Y, outputs, slopes):
    O = outputs(Z)
    return (1.0 / Z.shape[0]) * (O - Y) * slopes(O, Z)


def _mse_value(Z, Y, outputs):
    r = outputs(Z) - Y
    return float((r * r).sum() / (Z.shape[0] * Z.shape[1]))


def _mse_delta(Z, Y, outputs, slopes):
    O = outputs(Z)
    return (2.0 / (Z.shape[0] * Z.shape[1])) * (O - Y) * slopes(O, Z)


def _cross_entropy_value(Z, Y, outputs):
    return float(-(Y * _log_softmax(Z)).sum() / Z.shape[0])


def _cross_entropy_delta(Z, Y, outputs, slopes):
    return (np.exp(_log_softmax(Z)) * Y.sum(axis=1, keepdims=True) - Y) / Z.shape[0]


def _squared_errors_sample(z, y, f):
    return math.fsum((f(zj) - yj) ** 2 for yj, zj in zip(y, z))


def _cross_entropy_sample(z, y, f):
    top = max(z)
    lse = top + math.log(math.fsum(math.exp(v - top) for v in z))
    return math.fsum(yj * (lse - zj) for yj, zj in zip(y, z))


LOSSES = (
    LossRecord("squared", squared, _squared_value, _squared_delta, _squared_errors_sample,
               lambda total, n, p: 0.5 * total / n),
    LossRecord("mse", mse, _mse_value, _mse_delta, _squared_errors_sample, lambda total, n, p: total / (n * p)),
    LossRecord("cross-entropy", cross_entropy, _cross_entropy_value, _cross_entropy_delta, _cross_entropy_sample,
               lambda total, n, p: total / n, pairs_with="softmax"),
)

ACTIVATION = {record.name: record for record in ACTIVATIONS}
LOSS = {record.name: record for record in LOSSES}


def hidden_choices() -> tuple[str, ...]:
    """The hidden activations' CLI choices."""
    return tuple(r.choice for r in ACTIVATIONS if r.hidden)


def output_choices() -> tuple[str, ...]:
    """The output activations' CLI choices."""
    return tuple(r.choice for r in ACTIVATIONS if r.output)


def loss_choices() -> tuple[str, ...]:
    """The losses' CLI choices."""
    return tuple(r.choice for r in LOSSES)


def _install():
    """Hand the kernels their tables: formulas by name, EXACT_CHANGES, mixed's dispatch."""
    activation_formulas.install([(r.name, r.formulas, r.code, r.hidden, r.exact_change) for r in ACTIVATIONS])
    loss_formulas.install([(r.name, r.formulas, r.exact_change) for r in LOSSES])


_install()
