"""Difference rules, one record each: stencil, order, base step and evaluations.

With D_m(s) = E(theta + s e_q) - E(theta - m s e_q) (m = 1: a symmetric pair, m = 0: one
side against E(theta)) and C(s) = D_1(s) / (2s):

    forward       g = D_0(h) / h                                   error O(h)
    backward      g = D_0(-h) / (-h)                               error O(h)
    central       g = C(h)                                         error O(h^2)
    central4      g = (4 C(h) - C(2h)) / 3  (the five-point rule)  error O(h^4)
    richardson    R1 = (4 C(h/2) - C(h)) / 3, R2 = (4 C(h/4) - C(h/2)) / 3,
                  g = (16 R2 - R1) / 15                            error O(h^6)
    complex-step  g = Im E(theta + i h e_q) / h                    error O(h^2), no cancellation

Where theta_q + s is formed (full re-evaluation), every quotient divides by the step as
floating point takes it, s = (theta_q + s) - theta_q (scipy's rule), not the step asked
for; incremental re-evaluation never rounds theta_q + s, so its steps are exact.

Default steps follow scipy's rule: truncation ~ h^k against round-off ~ eps |E| / h balance at
h ~ eps^(1/(k+1)), so h_q = eps^(1/(order+1)) max(1, |theta_q|): eps^(1/2) (forward, backward),
eps^(1/3) (central), eps^(1/5) (central4), eps^(1/7) (richardson); complex-step takes
h = 1e-20, since it subtracts nothing. One exception: where every change of the loss is
formed without cancellation (the incremental strategy with fastgrad's own activations and
losses), the round-off is about eps |g| whatever h, so the central rule takes
h_q = eps^(1/2) max(1, |theta_q|), whose truncation (h^2/6 times the third derivative) is
far below that round-off.

Each rule also has scipy's name where scipy has the rule ("2-point", "3-point", "cs");
``approx_derivative`` takes either name, with scipy's relative step for scipy's rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

EPS = np.finfo(np.float64).eps
ROUNDING_SAFETY = 10.0  # richardson's round-off estimate: this many times the first-order bound


@dataclass(frozen=True)
class Rule:
    """A difference rule: the steps it evaluates at, as multiples of h (``multipliers``), each
    by a symmetric pair or one side against E(theta) (``symmetric``); its order; its default
    base step; its reach (steps below and above x0); the weights of its central quotients in g
    (extrapolations only); and scipy's name and relative step, where scipy has the rule."""
    name: str
    order: int
    multipliers: tuple
    symmetric: bool
    reach: tuple
    weights: tuple = ()
    scipy_name: str | None = None
    fixed_step: float | None = None     # a base step not of the order's rule
    scipy_step: float | None = None     # scipy's relative step, where it differs from the base step
    complex: bool = False

    @property
    def base_step(self) -> float:
        """eps^(1/(order+1)): truncation h^order against round-off eps / h (module docstring)."""
        return self.fixed_step if self.fixed_step is not None else EPS ** (1 / (self.order + 1))

    @property
    def relative_step(self) -> float:
        """The default relative step of ``approx_derivative`` (scipy's, for scipy's rules)."""
        return self.scipy_step if self.scipy_step is not None else self.base_step

    @property
    def evaluations(self) -> int:
        """Evaluations of f per entry (or coordinate), E(theta) not counted."""
        return len(self.multipliers) * (2 if self.symmetric else 1)

    @property
    def passes(self) -> int:
        """Difference jobs a gradient by this rule runs."""
        return len(self.multipliers)

    @property
    def rounding_gain(self) -> float:
        """sum_k |w_k| / m_k: how much the round-off eps |E| / h of one central quotient grows
        through the extrapolation g = sum_k w_k C(m_k h)."""
        return float(sum(abs(w) / Fraction(m) for w, m in zip(self.weights, self.multipliers)))


RULES = {rule.name: rule for rule in (
    Rule("forward", 1, (1.0,), False, (0, 1), scipy_name="2-point"),
    Rule("central", 2, (1.0,), True, (1, 1), scipy_name="3-point"),
    # subtracts nothing, so no round-off to balance: a step far below any truncation
    Rule("complex-step", 2, (1.0,), False, (0, 0), scipy_name="cs", fixed_step=1e-20, scipy_step=EPS ** 0.5,
         complex=True),
    Rule("backward", 1, (-1.0,), False, (1, 0)),
    Rule("central4", 4, (1.0, 2.0), True, (2, 2), weights=(Fraction(4, 3), Fraction(-1, 3))),
    Rule("richardson", 6, (1.0, 0.5, 0.25), True, (1, 1),
         weights=(Fraction(1, 45), Fraction(-20, 45), Fraction(64, 45))),
)}
METHODS = ("central",) + tuple(name for name in RULES if name != "central")  # the default first
ORDERS = {name: rule.order for name, rule in RULES.items()}
BASE_STEPS = {name: rule.base_step for name, rule in RULES.items()}
EXACT_CENTRAL_STEP = EPS ** 0.5  # the central rule's base where changes are exact (module docstring)


def rule_of(method: str) -> Rule:
    """The rule named ``method`` (fastgrad's name or scipy's), or a ValueError listing them."""
    found = RULES.get(method) if isinstance(method, str) else None
    if found is None:
        found = next((r for r in RULES.values() if r.scipy_name is not None and r.scipy_name == method), None)
    if found is None:
        names = [name for r in RULES.values() for name in (r.scipy_name, r.name) if name]
        raise ValueError(f"method: unknown {method!r}; expected one of {', '.join(names)}")
    return found


def base_step(method, exact_changes=False):
    """The default rule's base step for ``method``; ``exact_changes``: every change of the
    loss is formed without cancellation (module docstring)."""
    return EXACT_CENTRAL_STEP if exact_changes and method == "central" else RULES[method].base_step


def step_sizes(theta, method, h=None, exact_changes=False):
    """Per-entry steps for ``theta`` (the entries differentiated) and the base step.

    h=None applies the default rule (module docstring); a number is an absolute step.
    """
    if h is not None:
        return np.full(theta.shape, float(h)), float(h)
    base = base_step(method, exact_changes)
    if RULES[method].complex:
        return np.full(theta.shape, base), base
    return base * np.maximum(1.0, np.abs(theta)), base


def taken(theta, s):
    """The steps as floating point takes them: (theta + s) - theta."""
    return (theta + s) - theta


def combine(method, difference, steps, loss_value, take=None):
    """The gradient (and, for richardson, an error estimate) from ``difference(s, m, multiplier)``,
    which returns D_m(s) for every entry, s being ``take(multiplier * steps)``: the steps as
    the loss sees them (default: as asked). Returns (g, error or None)."""
    rule = RULES.get(method) if isinstance(method, str) else None
    if rule is None or rule.complex:
        raise ValueError(f"method: {method!r} is not a difference rule; expected one of "
                         f"{', '.join(name for name, r in RULES.items() if not r.complex)}")

    def quotient(multiplier):
        m = 1.0 if rule.symmetric else 0.0
        s = multiplier * steps if take is None else take(multiplier * steps)
        return difference(s, m, multiplier) / ((1.0 + m) * s)

    if rule.name != "richardson":
        if not rule.weights:
            return quotient(rule.multipliers[0]), None
        c1, c2 = (quotient(multiplier) for multiplier in rule.multipliers)
        return (4.0 * c1 - c2) / 3.0, None
    c1, c2, c4 = (quotient(multiplier) for multiplier in rule.multipliers)
    r1, r2 = (4.0 * c2 - c1) / 3.0, (4.0 * c4 - c2) / 3.0
    g = (16.0 * r2 - r1) / 15.0
    # truncation: R2's error, which R's is far below; round-off: each C(m h) off by about eps |E| / (m h)
    rounding = ROUNDING_SAFETY * rule.rounding_gain * EPS * abs(loss_value) / steps
    return g, np.abs(g - r2) + rounding
