"""gradcheck: compare the analytic gradient with the numerical one, per layer and per entry.

An entry passes when |a - g| <= atol + rtol |g| (a analytic, g numerical); its
relative error is |a - g| / max(|a|, |g|), taken as 0 where both are 0. A non-finite
entry fails, shows as NaN in its layer's maxima and heads the worst entries. The fast mode
first compares one random directional derivative, v^T a against the derivative of
f(t) = E(theta + t v) at 0 by the method asked for (central: (f(s) - f(-s)) / (2s)), and
checks every entry only when that fails (complex-step has no fast mode: it needs f in
complex arithmetic).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
from numpy.typing import ArrayLike

from . import policy
from .gradients.analytic import gradient_of as analytic_gradient_of
from .gradients.numerical import check_method, check_strategy, exact_changes
from .gradients.numerical import gradient_of as numerical_gradient_of
from .model import MLP
from .problem import loss as loss_value
from .problem import problem
from .rules import BASE_STEPS, base_step, combine
from .validation import check_seed, difference_step, positive_int, positive_number, seeded_rng

if TYPE_CHECKING:
    import distributed


@dataclass(frozen=True)
class EntryError:
    layer: int
    row: int
    column: int
    analytic: float
    numerical: float
    abs_error: float
    rel_error: float


@dataclass(frozen=True)
class LayerError:
    layer: int
    shape: tuple
    max_abs_error: float
    max_rel_error: float
    passed: bool


@dataclass(frozen=True)
class GradcheckReport:
    passed: bool
    mode: str                      # "full", "fast" (one direction passed) or "fast, then full"
    max_abs_error: float           # nan when only the fast check ran
    max_rel_error: float
    layers: list                   # empty when only the fast check ran
    worst: list                    # the worst entries, worst first (at most ``top``)
    rtol: float
    atol: float
    step: str                      # the step used, in words
    method: str
    backend: str
    relative_errors: np.ndarray    # per entry, aligned with theta (None after a passing fast check)
    directional: tuple = None      # (analytic v^T a, numerical) of the fast check

    def to_json(self):
        """The report as JSON-ready values (the per-entry errors as a list, or None)."""
        report = {k: v for k, v in asdict(self).items() if k not in ("layers", "worst", "relative_errors")}
        report["layers"] = [asdict(e) for e in self.layers]
        report["worst"] = [asdict(e) for e in self.worst]
        report["relative_errors"] = None if self.relative_errors is None else self.relative_errors.tolist()
        return report

    def __str__(self):
        lines = [f"gradcheck {'PASSED' if self.passed else 'FAILED'} ({self.mode}; method={self.method}, "
                 f"h={self.step}, rtol={self.rtol:g}, atol={self.atol:g}, backend={self.backend})"]
        if self.directional is not None:
            a, g = self.directional
            lines.append(f"random direction: analytic {a:.12e}  numerical {g:.12e}  abs error {abs(a - g):.3e}")
        if self.layers:
            lines.append(f"{'layer':>5}  {'shape':>10}  {'max abs err':>12}  {'max rel err':>12}  ok")
            for e in self.layers:
                shape = "x".join(str(s) for s in e.shape)
                lines.append(f"{e.layer:>5}  {shape:>10}  {e.max_abs_error:>12.3e}  "
                             f"{e.max_rel_error:>12.3e}  {'yes' if e.passed else 'NO'}")
        if self.worst:
            lines.append("worst entries:")
            lines.append(f"{'layer':>5} {'row':>4} {'col':>4}  {'analytic':>18}  {'numerical':>18}  "
                         f"{'abs err':>9}  {'rel err':>9}")
            for w in self.worst:
                lines.append(f"{w.layer:>5} {w.row:>4} {w.column:>4}  {w.analytic:>18.10e}  {w.numerical:>18.10e}  "
                             f"{w.abs_error:>9.2e}  {w.rel_error:>9.2e}")
        return "\n".join(lines)


def relative_error(a, g):
    """|a - g| / max(|a|, |g|), 0 where both are 0, NaN where either is not finite."""
    scale = np.maximum(np.abs(a), np.abs(g))
    error = np.divide(np.abs(a - g), scale, out=np.zeros_like(scale), where=scale > 0)
    error[~(np.isfinite(a) & np.isfinite(g))] = np.nan
    return error


def gradcheck(net: MLP, X: ArrayLike, Y: ArrayLike, loss: str | None = None, h: float | None = None,
              backend: str = policy.DEFAULT, rtol: float = 1e-5, atol: float = 1e-8,
              method: str = "central", fast: bool = False, top: int = 5, seed: int = 0,
              client: distributed.Client | None = None, blocks: int | None = None,
              progress: Callable[[int, int], None] | None = None) -> GradcheckReport:
    """Check ``analytic_gradient`` against ``numerical_gradient``; return a GradcheckReport.

    ``h=None`` uses the method's default step rule; ``fast=True`` tries one random
    direction first (seeded by ``seed``); ``top`` worst entries are listed. Layers are
    numbered from 1 (W1 is the first layer's weights, as in the textbook). ``client``,
    ``blocks`` and ``progress`` go to the numerical gradient with backend="dask".
    """
    return gradcheck_of(problem(net, X, Y, loss), h, backend, rtol, atol, method, fast, top, seed, client, blocks,
                        progress)


def gradcheck_of(prob, h=None, backend=policy.DEFAULT, rtol=1e-5, atol=1e-8, method="central", fast=False, top=5,
                 seed=0, client=None, blocks=None, progress=None):
    """``gradcheck`` of a Problem (its workspaces reused: no other Problem is built)."""
    rtol = positive_number("rtol", rtol)
    atol = positive_number("atol", atol)
    top = positive_int("top", top)
    seed = check_seed(seed)
    net = prob.net
    method = check_method(method, prob, backend)
    if fast and method == "complex-step":
        raise ValueError("fast: the fast check differences the loss along one direction, which complex-step "
                         "cannot; leave out fast or choose another method")
    if h is not None:
        h = difference_step("h", h)
    base = base_step(method, exact_changes(prob, check_strategy(None, backend)))
    step = f"{h:g}" if h is not None else f"{base:.3g}" + ("" if method == "complex-step" else " x max(1, |theta_q|)")
    own = policy.NUMPY if backend in (policy.PYTHON, policy.NUMPY) else policy.NUMBA  # the baselines compile nothing
    analytic = analytic_gradient_of(prob, own)
    common = dict(rtol=rtol, atol=atol, step=step, method=method, backend=backend)
    directional = None
    if fast:
        directional = _directional_check(prob, analytic, h, method, seed, own)
        a, g = directional
        if abs(a - g) <= atol + rtol * abs(g):
            return GradcheckReport(True, "fast", float("nan"), float("nan"), [], [], relative_errors=None,
                                   directional=directional, **common)
    numerical = numerical_gradient_of(prob, h, backend, method=method, client=client, blocks=blocks,
                                      progress=progress)
    abs_err = np.abs(analytic - numerical)
    rel_err = relative_error(analytic, numerical)
    ok = abs_err <= atol + rtol * np.abs(numerical)
    layers = [LayerError(l + 1, W.shape, float(e.max()), float(r.max()), bool(o.all()))
              for l, (W, e, r, o) in enumerate(zip(net.weights, net.unflatten(abs_err),
                                                    net.unflatten(rel_err), net.unflatten(ok)))]
    badness = np.nan_to_num(abs_err / (atol + rtol * np.abs(numerical)), nan=np.inf)  # a NaN entry is the worst
    order = np.argsort(-badness, kind="stable")[:top]
    worst = [_entry(net, int(q), analytic, numerical, abs_err, rel_err) for q in order]
    return GradcheckReport(bool(ok.all()), "fast, then full" if fast else "full", float(abs_err.max()),
                           float(rel_err.max()), layers, worst, relative_errors=rel_err, directional=directional,
                           **common)


def _directional_check(prob, analytic, h, method, seed, backend):
    """(v^T a, the derivative of f(t) = E(theta + t v) at 0 by ``method``) for a seeded random
    unit vector v, E by ``fastgrad.loss``'s ``backend``."""
    net = prob.net
    v = seeded_rng(seed).standard_normal(net.n_params)
    v /= np.linalg.norm(v)
    s = h if h is not None else BASE_STEPS[method] * max(1.0, float(np.abs(net.theta).max()))
    work = net.copy()

    def f(t):
        work.theta = net.theta + t * v
        return loss_value(work, prob.X, prob.Y, prob.loss_name, backend)

    def difference(steps, m, multiplier):
        return np.array([f(steps[0]) - f(-m * steps[0])])

    derivative, _ = combine(method, difference, np.array([s]), f(0.0))
    return float(analytic @ v), float(derivative[0])


def _entry(net, q, analytic, numerical, abs_err, rel_err):
    layer = int(np.searchsorted(net.layout[:, 0], q, side="right")) - 1
    offset, _, n_out = net.layout[layer, :3]
    row, column = divmod(q - int(offset), int(n_out))
    return EntryError(layer + 1, row, column, float(analytic[q]), float(numerical[q]),
                      float(abs_err[q]), float(rel_err[q]))
