"""Directional derivatives J v of any function from one pair of evaluations: ``jvp``, and the
linear operator of ``approx_derivative(as_linear_operator=True)``, whose matvec is scipy's.

With t = h / ||v||, the step along the unit direction v / ||v|| being h:

    forward (2-point)       J v ~ (f(x0 + t v) - f(x0)) / t               error O(h)
    central (3-point)       J v ~ (f(x0 + t v) - f(x0 - t v)) / 2t        error O(h^2)
    complex-step (cs)       J v ~ Im f(x0 + i t v) / t                    error O(h^2)

(the central rule divides by 2t as scipy forms it: dx = 2h / ||v||, points x0 -+ (dx / 2) v).
"""
from __future__ import annotations

import functools
from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from . import calls
from .bounded_steps import relative_step
from .rules import rule_of

DIRECTIONAL = ("forward", "central", "complex-step")


def directional_rule(method):
    """The rule of ``method`` for a directional derivative (scipy's three), else a ValueError."""
    rule = rule_of(method)
    if rule.name not in DIRECTIONAL:
        raise ValueError(f"method: a directional derivative takes 2-point, 3-point or cs (forward, central, "
                         f"complex-step), not {method!r}")
    return rule


def along(call, x0, f0, h, rule, v):
    """J v by ``rule`` with step h along v (module docstring; scipy's matvec, to the bit);
    zeros for v = 0; f0 = f(x0), needed by the forward rule and for v = 0 only."""
    v = np.asarray(v)
    if np.array_equal(v, np.zeros_like(v)):
        return np.zeros(f0.size)
    norm = np.linalg.norm(v)
    if rule.name == "forward":
        dx = h / norm
        return (np.atleast_1d(call(x0 + dx * v)) - f0) / dx
    if rule.name == "central":
        dx = 2 * h / norm
        return (np.atleast_1d(call(x0 + (dx / 2) * v)) - np.atleast_1d(call(x0 - (dx / 2) * v))) / dx
    dx = h / norm
    return np.atleast_1d(call(x0 + dx * v * 1.j)).imag / dx


def linear_operator(call, x0, f0, rule, rel_step, eps):
    """scipy's LinearOperator (m, n) whose matvec is ``along`` with h = rel_step (default the
    rule's relative step for ``eps``), as ``approx_derivative(as_linear_operator=True)``."""
    try:
        from scipy.sparse.linalg import LinearOperator
    except ImportError:
        raise ValueError("as_linear_operator: needs scipy (pip install scipy)") from None
    rule = directional_rule(rule.name)
    h = relative_step(rule, eps) if rel_step is None else rel_step
    return LinearOperator((f0.size, x0.size), matvec=functools.partial(along, call, x0, f0, h, rule))


def jvp(fun: Callable, x0: ArrayLike, v: ArrayLike, method: str = "3-point", rel_step: float | None = None,
        f0: ArrayLike | None = None, args: tuple = (), kwargs: dict | None = None) -> np.ndarray:
    """The directional derivative J(x0) v of ``fun(x, *args, **kwargs)``, shape (m,) (m = 1
    for a scalar fun), from one pair of evaluations (one, given ``f0``, for "2-point"; one
    for "cs", at a complex point).

    The step along v / ||v|| is h = r max(1, ||x0||), r = ``rel_step`` or the rule's relative
    step (eps^(1/2) for "2-point" and "cs", eps^(1/3) for "3-point"): the rule's balance of
    truncation against round-off at the scale of x0 (equations in the module docstring).

    Examples
    --------
    >>> import numpy as np, fastgrad as fg
    >>> fg.jvp(lambda x: np.array([x[0] * x[1], x[1] ** 2]), [1.0, 2.0], [1.0, 0.0])  # doctest: +SKIP
    array([2., 0.])
    """
    rule = directional_rule(method)
    x0 = calls.point(x0, keep_dtype=True)
    v = np.asarray(v, dtype=float)
    if v.shape != x0.shape or not np.isfinite(v).all():
        raise ValueError(f"v: expected {x0.size} finite numbers, got shape {v.shape}")
    if rel_step is not None and not (np.isscalar(rel_step) and np.isfinite(rel_step) and rel_step > 0):
        raise ValueError(f"rel_step: expected a positive number, got {rel_step!r}")
    call = calls.Call(fun, args, kwargs, x0.dtype)
    if f0 is not None:
        f0 = calls.given_value(f0)
    elif rule.name == "forward" or not v.any():
        f0 = calls.value(call, x0)
    r = rel_step if rel_step is not None else relative_step(rule, calls.epsilon(x0.dtype, x0.dtype if f0 is None
                                                                                   else f0.dtype))
    return along(call, x0, f0, r * max(1.0, float(np.linalg.norm(x0))), rule, v)
