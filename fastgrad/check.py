"""gradcheck: compare the analytic gradient with the numerical one, per layer and per entry.

An entry passes when |a - g| <= atol + rtol |g| (a analytic, g numerical); its
relative error is |a - g| / max(|a|, |g|), taken as 0 where both are 0.
"""
from dataclasses import dataclass

import numpy as np

from .gradients.analytic import analytic_gradient
from .gradients.numerical import numerical_gradient
from .problem import problem
from .validation import positive_number


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
    max_abs_error: float
    max_rel_error: float
    layers: list
    worst: EntryError
    rtol: float
    atol: float
    h: float
    backend: str
    relative_errors: np.ndarray  # per entry, aligned with theta

    def __str__(self):
        lines = [f"gradcheck {'PASSED' if self.passed else 'FAILED'} "
                 f"(rtol={self.rtol:g}, atol={self.atol:g}, h={self.h:g}, backend={self.backend})",
                 f"{'layer':>5}  {'shape':>10}  {'max abs err':>12}  {'max rel err':>12}  ok"]
        for e in self.layers:
            shape = "x".join(str(s) for s in e.shape)
            lines.append(f"{e.layer:>5}  {shape:>10}  {e.max_abs_error:>12.3e}  "
                         f"{e.max_rel_error:>12.3e}  {'yes' if e.passed else 'NO'}")
        w = self.worst
        lines.append(f"worst entry: layer {w.layer} [{w.row}, {w.column}]  analytic {w.analytic:.10e}  "
                     f"numerical {w.numerical:.10e}  abs {w.abs_error:.3e}  rel {w.rel_error:.3e}")
        return "\n".join(lines)


def relative_error(a, g):
    """|a - g| / max(|a|, |g|), 0 where both are 0."""
    scale = np.maximum(np.abs(a), np.abs(g))
    return np.divide(np.abs(a - g), scale, out=np.zeros_like(scale), where=scale > 0)


def gradcheck(net, X, Y, loss=None, h=1e-5, backend="numba-parallel", rtol=1e-5, atol=1e-8):
    """Check ``analytic_gradient`` against ``numerical_gradient``; return a GradcheckReport.

    Layers are numbered from 1 (W1 is the first layer's weights, as in the textbook).
    """
    rtol = positive_number("rtol", rtol)
    atol = positive_number("atol", atol)
    loss = problem(net, X, Y, loss).loss
    numerical = numerical_gradient(net, X, Y, loss=loss, h=h, backend=backend)
    analytic = analytic_gradient(net, X, Y, loss=loss,
                                 backend="numpy" if backend in ("python", "numpy") else "numba")
    abs_err = np.abs(analytic - numerical)
    rel_err = relative_error(analytic, numerical)
    ok = abs_err <= atol + rtol * np.abs(numerical)
    layers = [LayerError(l + 1, W.shape, float(e.max()), float(r.max()), bool(o.all()))
              for l, (W, e, r, o) in enumerate(zip(net.weights, net.unflatten(abs_err),
                                                    net.unflatten(rel_err), net.unflatten(ok)))]
    q = int(np.argmax(abs_err / (atol + rtol * np.abs(numerical))))
    layer = int(np.searchsorted(net.layout[:, 0], q, side="right")) - 1
    offset, _, n_out = net.layout[layer, :3]
    row, column = divmod(q - int(offset), int(n_out))
    worst = EntryError(layer + 1, row, column, float(analytic[q]), float(numerical[q]),
                       float(abs_err[q]), float(rel_err[q]))
    return GradcheckReport(bool(ok.all()), float(abs_err.max()), float(rel_err.max()), layers, worst,
                           rtol, atol, float(h), backend, rel_err)
