"""Steps and bounds of ``approx_derivative``, as ``scipy.optimize.approx_derivative`` (scipy 1.17)
takes them, in float64:

    default step   h_i = r s_i max(1, |x_i|), r the rule's relative step (``relative_step``:
                   eps^(1/2) for "2-point" and "cs", eps^(1/3) for "3-point", eps the
                   machine epsilon of the narrower of x0's and f0's floating dtypes),
                   s_i = +1 where x_i >= 0, else -1;
    rel_step       h_i = rel_step s_i |x_i|;  abs_step: h_i = abs_step;  either, where
                   (x_i + h_i) - x_i == 0, falls back to the default step;
    bounds         "2-point": a step that leaves [lb, ub] is reversed when that fits, else the
                   step goes to the farther bound; "3-point": near a bound it turns one-sided,
                   (-3 f0 + 4 f(x + h e_i) - f(x + 2h e_i)) / 2h, towards the farther bound;
                   "cs" steps off the real axis and ignores them, as scipy does.

fastgrad's own rules ("backward", "central4", "richardson") take positive steps and have no
one-sided form: all their points must lie within the bounds.
"""
import numpy as np

from .kernels import steps as kernels

EPS = np.finfo(np.float64).eps


def bounds_of(bounds, x0):
    """(lb, ub) as arrays shaped like x0, with x0 inside."""
    try:
        lb, ub = (np.broadcast_to(np.asarray(b, dtype=float), x0.shape) for b in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"bounds: expected (lower, upper), each a number or an array of {x0.size}") from None
    if not unbounded(lb, ub) and np.any((x0 < lb) | (x0 > ub)):
        raise ValueError("x0: lies outside bounds")
    return lb, ub


def unbounded(lb, ub):
    """Whether every lb is -inf and every ub +inf (read once where a bound is one number)."""
    if lb.strides == ub.strides == (0,):  # broadcast from one number each
        lb, ub = lb[:1], ub[:1]
    return bool((lb == -np.inf).all() and (ub == np.inf).all())


def relative_step(rule, eps=EPS):
    """The rule's relative step for machine epsilon ``eps`` (in eps's dtype, as scipy forms
    it): eps^(1/2) for complex-step, else eps^(1/(order+1)); float64's is ``Rule.relative_step``."""
    if eps == EPS:
        return rule.relative_step
    return eps ** (0.5 if rule.complex else 1 / (rule.order + 1))


def steps_of(x0, rule, rel_step, abs_step, eps=EPS, compiled=False):
    """scipy's absolute steps (module docstring), float64; positive for fastgrad's rules.
    ``compiled``: a float64 x0's default steps by one compiled pass (the same bits), for a
    caller that runs compiled kernels anyway; numpy's four passes load none."""
    r = np.float64(relative_step(rule, eps))
    if compiled and x0.dtype == np.float64:
        default = kernels.default_steps(x0, r)
    else:
        default = np.abs(x0, dtype=np.float64)  # r s_i max(1, |x_i|) = ±(r max(1, |x_i|)), exactly
        np.maximum(default, 1.0, out=default)
        default *= r
        np.negative(default, out=default, where=x0 < 0)
    if abs_step is None and rel_step is None:  # the fallback below would put the same step back
        h = default
    else:
        if abs_step is not None:
            h = np.broadcast_to(np.asarray(abs_step, dtype=float), x0.shape)
        else:
            h = np.asarray(rel_step, dtype=float) * np.where(x0 >= 0, 1.0, -1.0) * np.abs(x0)
        h = np.where((x0 + h) - x0 == 0, default, h)
    return np.abs(h) if rule.scipy_name is None else h


def check_stencil_within(rule, x0, h, lb, ub):
    """fastgrad's rules have no one-sided form: all their points must lie within the bounds."""
    below, above = rule.reach
    outside = np.flatnonzero((x0 - below * h < lb) | (x0 + above * h > ub))
    if outside.size:
        raise ValueError(f"bounds: method {rule.name!r} evaluates f at x0 - {below} h to x0 + {above} h, which leaves "
                         f"the bounds at coordinate {outside[0]} (use '3-point' or '2-point', which step "
                         "one-sided near a bound)")


def one_sided_within(x0, h, lb, ub):
    """"2-point" steps kept within bounds: reversed where that fits, else to the farther bound."""
    if unbounded(lb, ub):
        return h
    h = h.copy()
    below, above = x0 - lb, ub - x0
    outside = (x0 + h < lb) | (x0 + h > ub)
    fits = np.abs(h) <= np.maximum(below, above)
    h[outside & fits] *= -1
    forward = (above >= below) & ~fits
    h[forward] = above[forward]
    backward = (above < below) & ~fits
    h[backward] = -below[backward]
    return h


def central_within(x0, h, lb, ub):
    """"3-point" steps within bounds and where to go one-sided (scipy's rule)."""
    h = np.abs(h)
    one_sided = np.zeros(x0.size, dtype=bool)
    if unbounded(lb, ub):
        return h, one_sided
    h = h.copy()
    below, above = x0 - lb, ub - x0
    central = (below >= h) & (above >= h)
    forward = (above >= below) & ~central
    h[forward] = np.minimum(h[forward], 0.5 * above[forward])
    one_sided[forward] = True
    backward = (above < below) & ~central
    h[backward] = -np.minimum(h[backward], 0.5 * below[backward])
    one_sided[backward] = True
    nearest = np.minimum(above, below)
    shrunk = ~central & (np.abs(h) <= nearest)
    h[shrunk] = nearest[shrunk]
    one_sided[shrunk] = False
    return h, one_sided
