"""Optimizers of the training loop: their names, parameters and state.

Each is compiled into the training kernel as a bound formulas module (kernels/optimizers/),
so a run compiles the one it uses:

    sgd       theta <- theta - eta g
    momentum  v <- beta v + g,  theta <- theta - eta v
    adam      m <- beta1 m + (1 - beta1) g,  v <- beta2 v + (1 - beta2) g^2,
              theta <- theta - eta (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

from .kernels.optimizers import adam, momentum

NAMES = ("sgd", "momentum", "adam")


@dataclass(frozen=True)
class Optimizer:
    """Plain gradient descent, theta <- theta - eta g (``name`` "sgd"); the base of the others."""
    name = "sgd"
    module = None  # the training template's own update (kernels/optimizers/sgd.py)

    def settings(self) -> np.ndarray:
        """The parameters as the kernel reads them."""
        return np.array([getattr(self, f.name) for f in fields(self)], dtype=np.float64)

    def state(self, n_params: int) -> np.ndarray:
        """The state at the first step, zero."""
        return np.zeros(0)

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            low, high = f.metadata.get("range", (0.0, 1.0))
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or not low <= value < high:
                raise ValueError(f"{f.name}: expected a number in [{low:g}, {high:g}), got {value!r}")


@dataclass(frozen=True)
class Momentum(Optimizer):
    """Heavy-ball momentum: v <- beta v + g, theta <- theta - eta v (v = 0 at the start)."""
    beta: float = 0.9
    name = "momentum"
    module = momentum

    def state(self, n_params):
        return np.zeros(n_params)


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam: bias-corrected running means of g (``beta1``) and g^2 (``beta2``), each step
    theta <- theta - eta m_hat / (sqrt(v_hat) + epsilon)."""
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = field(default=1e-8, metadata={"range": (0.0, math.inf)})  # any positive floor
    name = "adam"
    module = adam

    def state(self, n_params):
        return np.zeros(2 * n_params + 1)  # m, v and the steps taken


SGD = Optimizer
BY_NAME = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def optimizer(spec: str | Optimizer = "sgd", **parameters) -> Optimizer:
    """The Optimizer ``spec`` names ("sgd", "momentum" or "adam", with ``parameters``), or
    ``spec`` itself."""
    if isinstance(spec, Optimizer):
        if parameters:
            raise ValueError(f"optimizer: give the parameters {', '.join(parameters)} in the Optimizer object")
        return spec
    if spec not in BY_NAME:
        raise ValueError(f"optimizer: expected one of {', '.join(NAMES)} or an Optimizer, got {spec!r}")
    kind = BY_NAME[spec]
    known = {f.name for f in fields(kind)}
    for name in parameters:
        if name not in known:
            raise ValueError(f"{name}: not a parameter of {spec} (its parameters: {', '.join(sorted(known)) or 'none'})")
    return kind(**parameters)
