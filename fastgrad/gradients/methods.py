"""Difference rules and step rules for the numerical gradient.

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
h ~ eps^(1/(k+1)), so h_q = eps^(1/2) (forward, backward), eps^(1/3) (central), eps^(1/5)
(central4), eps^(1/7) (richardson), each times max(1, |theta_q|); complex-step takes
h = 1e-20, since it subtracts nothing. One exception: where every change of the loss is
formed without cancellation (the incremental strategy with fastgrad's own activations and
losses), the round-off is about eps |g| whatever h, so the central rule takes
h_q = eps^(1/2) max(1, |theta_q|), whose truncation (h^2/6 times the third derivative) is
far below that round-off.
"""
import numpy as np

EPS = np.finfo(np.float64).eps
METHODS = ("central", "forward", "backward", "central4", "richardson", "complex-step")
ORDERS = {"forward": 1, "backward": 1, "central": 2, "central4": 4, "richardson": 6, "complex-step": 2}
BASE_STEPS = {"forward": EPS ** 0.5, "backward": EPS ** 0.5, "central": EPS ** (1 / 3),
              "central4": EPS ** 0.2, "richardson": EPS ** (1 / 7), "complex-step": 1e-20}
EXACT_CENTRAL_STEP = EPS ** 0.5  # the central rule's base where changes are exact (module docstring)


def base_step(method, exact_changes=False):
    """The default rule's base step for ``method``; ``exact_changes``: every change of the
    loss is formed without cancellation (module docstring)."""
    return EXACT_CENTRAL_STEP if exact_changes and method == "central" else BASE_STEPS[method]


def step_sizes(theta, method, h=None, exact_changes=False):
    """Per-entry steps for ``theta`` (the entries differentiated) and the base step.

    h=None applies the default rule (module docstring); a number is an absolute step.
    """
    if h is not None:
        return np.full(theta.shape, float(h)), float(h)
    base = base_step(method, exact_changes)
    if method == "complex-step":
        return np.full(theta.shape, base), base
    return base * np.maximum(1.0, np.abs(theta)), base


def taken(theta, s):
    """The steps as floating point takes them: (theta + s) - theta."""
    return (theta + s) - theta


def combine(method, difference, steps, loss_value, take=None):
    """The gradient (and, for richardson, an error estimate) from ``difference(s, m, multiplier)``,
    which returns D_m(s) for every entry, s being ``take(multiplier * steps)``: the steps as
    the loss sees them (default: as asked). Returns (g, error or None)."""
    def quotient(multiplier, m):
        s = multiplier * steps if take is None else take(multiplier * steps)
        return difference(s, m, multiplier) / ((1.0 + m) * s)

    def central(multiplier):
        return quotient(multiplier, 1.0)

    if method == "forward":
        return quotient(1.0, 0.0), None
    if method == "backward":
        return quotient(-1.0, 0.0), None
    if method == "central":
        return central(1.0), None
    if method == "central4":
        return (4.0 * central(1.0) - central(2.0)) / 3.0, None
    if method != "richardson":
        raise ValueError(f"method: {method!r} is not a difference rule; expected one of "
                         f"{', '.join(m for m in METHODS if m != 'complex-step')}")
    c1, c2, c4 = central(1.0), central(0.5), central(0.25)
    r1, r2 = (4.0 * c2 - c1) / 3.0, (4.0 * c4 - c2) / 3.0
    g = (16.0 * r2 - r1) / 15.0
    # truncation: R2's error, which R's is far below; round-off: g = (64 C(h/4) - 20 C(h/2) + C(h)) / 45
    # with each C(s) off by about eps |E| / s, times a safety factor of 10
    rounding = 10.0 * (64 * 4 + 20 * 2 + 1) / 45.0 * EPS * abs(loss_value) / steps
    return g, np.abs(g - r2) + rounding
