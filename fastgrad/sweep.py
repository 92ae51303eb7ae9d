"""h-sweep: how each difference method's error against the analytic gradient depends on h.

For each method and each step h (log-spaced), the error is
max_q |g_q(h) - a_q| / max_q |a_q|. Right of the best h the truncation error dominates
and falls as h^order; left of it round-off rises as eps |E| / h (complex-step excepted).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike

from . import policy
from .gradients.analytic import analytic_gradient
from .gradients.numerical import NOT_ANALYTIC, numerical_gradient
from .model import MLP
from .problem import problem
from .rules import METHODS, ORDERS
from .validation import check_allocation, positive_int


@dataclass
class HSweep:
    hs: np.ndarray
    errors: dict                                 # method -> array of errors, aligned with hs
    best: dict = field(default_factory=dict)     # method -> (h, error)
    slopes: dict = field(default_factory=dict)   # method -> fitted truncation slope (if measurable)

    def to_json(self):
        return {"h": self.hs.tolist(), "errors": {m: e.tolist() for m, e in self.errors.items()},
                "best": {m: {"h": h, "error": e} for m, (h, e) in self.best.items()},
                "truncation_slopes": self.slopes, "expected_orders": {m: ORDERS[m] for m in self.errors}}


def hsweep(net: MLP, X: ArrayLike, Y: ArrayLike, loss: str | None = None,
           methods: Sequence[str] = ("forward", "central", "central4", "richardson", "complex-step"),
           h_min: float = 1e-14, h_max: float = 1e-1, points: int = 27, backend: str = policy.DEFAULT,
           strategy: str = "full") -> HSweep:
    """Errors of every method over ``points`` log-spaced steps in [h_min, h_max].

    ``strategy="full"`` (the default here) shows the classic picture, where two nearly
    equal losses are subtracted and round-off grows as h shrinks; "incremental" forms
    the differences directly and shows truncation error alone. complex-step is skipped
    for nets with relu (it needs analytic functions).
    """
    prob = problem(net, X, Y, loss)
    if not methods:
        raise ValueError(f"methods: expected one or more of {', '.join(METHODS)}, got none")
    for m in methods:
        if m not in METHODS:
            raise ValueError(f"methods: unknown method {m!r}; expected some of {', '.join(METHODS)}")
    if not 0 < h_min < h_max:
        raise ValueError(f"h_min: expected 0 < h_min < h_max, got {h_min} and {h_max}")
    points = positive_int("points", points)
    check_allocation("points", f"{points} steps and their errors by {len(methods)} methods",
                     8 * points * (len(methods) + 1))
    if any(a in NOT_ANALYTIC for a in net.hidden) and "complex-step" in methods:
        methods = [m for m in methods if m != "complex-step"]
        if not methods:
            raise ValueError("methods: complex-step needs analytic activations (this net has relu), and no other "
                             "method is asked for")
        warnings.warn("complex-step left out of the sweep: it needs analytic activations (this net has relu)",
                      stacklevel=2)
    exact = analytic_gradient(net, prob.X, prob.Y, loss=prob.loss_name, backend="numpy")
    scale = max(np.abs(exact).max(), np.finfo(float).tiny)
    hs = np.logspace(np.log10(h_min), np.log10(h_max), points)
    sweep = HSweep(hs, {})
    for method in methods:
        errors = np.array([np.abs(numerical_gradient(net, prob.X, prob.Y, loss=prob.loss_name, h=h, method=method,
                                                     backend=backend, strategy=strategy) - exact).max() / scale
                           for h in hs])
        sweep.errors[method] = errors
        k = int(np.argmin(errors))
        sweep.best[method] = (float(hs[k]), float(errors[k]))
        slope = truncation_slope(hs, errors, k)
        if slope is not None:
            sweep.slopes[method] = slope
    return sweep


def truncation_slope(hs, errors, best):
    """Slope of log error against log h right of the best h, where the error is at least 100
    times the best and below 1e-2 (truncation-dominated, still asymptotic); None if < 2 points."""
    keep = [i for i in range(best + 1, len(hs)) if 100 * errors[best] <= errors[i] < 1e-2]
    if len(keep) < 2:
        return None
    return float(np.polyfit(np.log(hs[keep]), np.log(errors[keep]), 1)[0])
