"""Derivatives of any function f(x, *args): ``approx_derivative`` and ``check_grad`` with
scipy's semantics; the loop over coordinates compiled (and spread over threads) when f is
numba-compiled. Hessians are ``fastgrad.hessians``'s.

Steps and bounds follow ``scipy.optimize.approx_derivative`` (scipy 1.17) (``bounded_steps``).

Rules (equations in ``columns``): scipy's "2-point", "3-point" and "cs", each dividing by the
step as floating point takes it, as scipy does; and fastgrad's "backward", "central4" and
"richardson", the rules of ``fastgrad.gradients.methods`` (orders 1, 4 and 6) with its
default steps, h_i = eps^(1/(order+1)) max(1, |x_i|) (rel_step and abs_step as above, taken
positive); their points must lie within the bounds (no one-sided variant), else a ValueError.
All of them evaluate f at x0 + s e_i by one loop, ``kernels/any_function.evaluations``.

Sparse Jacobians are ``fastgrad.sparse``'s, linear operators ``fastgrad.directional``'s;
how f is called (dtypes, workers, compiled loops) is ``fastgrad.calls``'s.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from numpy.typing import ArrayLike

from . import calls, dask_backend, directional, policy, sparse
from .check import relative_error
from .bounded_steps import bounds_of, central_within, check_stencil_within, one_sided_within, steps_of
from .kernels import any_function, specialise
from .rules import RULES, combine, rule_of, taken
from .validation import check_allocation, choice, seeded_rng

if TYPE_CHECKING:
    import distributed

EPS = np.finfo(np.float64).eps
METHODS = tuple(name for rule in RULES.values() for name in (rule.scipy_name, rule.name) if name)  # scipy's first


def approx_derivative(fun: Callable, x0: ArrayLike, method: str = "3-point", rel_step: ArrayLike | None = None,
                      abs_step: ArrayLike | None = None, f0: ArrayLike | None = None,
                      bounds: tuple = (-np.inf, np.inf), sparsity: Any = None, as_linear_operator: bool = False,
                      args: tuple = (), kwargs: dict | None = None, full_output: bool = False,
                      workers: int | Callable | None = None, backend: str | None = None,
                      client: distributed.Client | None = None, blocks: int | None = None) -> Any:
    """The derivative of ``fun(x, *args, **kwargs)`` at ``x0`` by finite differences, with the
    arguments, steps, bounds, dtypes, shapes and exceptions of
    ``scipy.optimize.approx_derivative`` (the same positional order): the gradient (n,) of a
    scalar function, the Jacobian (m, n) of a vector one.

    ``method``: scipy's "2-point", "3-point", "cs" or fastgrad's names for them, "forward",
    "central", "complex-step"; and fastgrad's higher-order "central4" and "richardson" and
    "backward" (module docstring). ``sparsity``: the Jacobian's structure (an array or scipy
    sparse array or matrix, or (structure, groups)): one evaluation per group of columns that
    share no row (``fastgrad.sparse``), the result a scipy CSR array (a CSR matrix for a
    matrix structure). ``as_linear_operator=True``: a scipy LinearOperator whose matvec is a
    directional difference (``fastgrad.directional``), no bounds. A float16 or float32 x0
    keeps its dtype and the steps use its epsilon (that of f0 where f0 is narrower), as scipy.
    ``workers``: an int (threads for a numba function on "numba-parallel", processes for a
    Python one; -1 all of them) or a map-like callable that evaluates f at the points, as
    scipy. ``backend``: "python" (the loop calls ``fun`` from Python), "numba" or
    "numba-parallel" (``fun`` a numba-compiled function: the loop compiled, the coordinates
    or groups spread over threads, equal to "numba" bit for bit); "dask": blocks of
    coordinates as tasks on a Dask cluster (``client``, default Dask's current one;
    ``blocks`` of them, default 4 per worker thread; blocks of groups for ``sparsity``),
    each the serial loop, equal to it bit for bit; None picks "numba-parallel" for a numba-compiled ``fun``
    without kwargs or a map-like ``workers``, else "python".
    ``full_output=True`` returns (J, {"nfev": evaluations, "backend": backend}), and for
    "richardson" also "error_estimate", shaped like J.
    """
    rule = rule_of(method)
    asked, x0 = np.asarray(x0), calls.point(x0, keep_dtype=True)  # x0 a copy: f may change it, not the caller's
    kwargs = {} if kwargs is None else dict(kwargs)
    workers = calls.check_workers(workers)
    backend = calls.backend_of(backend, fun, kwargs, workers)
    for name, given in (("client", client), ("blocks", blocks)):
        if given is not None and backend != policy.DASK:
            raise ValueError(f"{name}: only for backend='dask', not {backend!r}")
    for name, given in (("workers", workers is not None), ("as_linear_operator", as_linear_operator)):
        if given and backend == policy.DASK:
            raise ValueError(f"{name}: not with backend='dask' (its blocks of coordinates are the workers)")
    lb, ub = bounds_of(bounds, x0)
    if as_linear_operator and not (np.all(np.isinf(lb)) and np.all(np.isinf(ub))):
        raise ValueError("Bounds not supported when `as_linear_operator` is True.")
    call = calls.Call(fun, args, kwargs, x0.dtype)
    nfev = 0
    if f0 is None:
        f0 = calls.value(call, x0)
        asked = asked.reshape(-1)
        if not (np.array_equal(x0, asked) or np.array_equal(x0, asked, equal_nan=True)):  # a moving point
            raise ValueError("fun: changed its argument x in place; differences need a function that leaves x "
                             "as it was (copy it first)")
        nfev = 1
    else:
        f0 = calls.given_value(f0)
    eps = calls.epsilon(x0.dtype, f0.dtype)
    if as_linear_operator:
        J = directional.linear_operator(call, x0, f0, rule, rel_step, eps)
        return (J, {"nfev": nfev, "backend": backend}) if full_output else J
    h = steps_of(x0, rule, rel_step, abs_step, eps, compiled=sparsity is not None)  # sparse: kernels run anyway
    one_sided = np.zeros(x0.size, dtype=bool)
    if rule.name == "forward":
        h = one_sided_within(x0, h, lb, ub)
    elif rule.name == "central":
        h, one_sided = central_within(x0, h, lb, ub)
    elif not rule.complex:
        check_stencil_within(rule, x0, h, lb, ub)
    ET = None
    with calls.mapper(workers if backend == policy.PYTHON else None) as mapped:
        workers = mapped if backend == policy.PYTHON and workers not in (None, 1) else workers
        if sparsity is not None:
            J, evaluations = sparse.sparse_jacobian(call, rule, x0, f0, h, one_sided, sparsity, backend, workers,
                                                    client, blocks)
            nfev += evaluations
        else:
            problem = (fun, tuple(args), kwargs, rule, x0, f0, h, one_sided)
            coordinates = np.arange(x0.size)
            if backend == policy.DASK:
                JT, ET = _columns_on_cluster(problem, coordinates, client, blocks)
            else:
                JT, ET = columns(*problem, coordinates, backend, workers)
            nfev += rule.evaluations * x0.size
            J = JT.ravel() if f0.size == 1 else JT.T
    if not full_output:
        return J
    info = {"nfev": nfev, "backend": backend}
    if ET is not None:
        info["error_estimate"] = ET.ravel() if f0.size == 1 else ET.T
    return J, info


def columns(fun, args, kwargs, rule, x0, f0, h, one_sided, coordinates, backend, workers=None):
    """(JT, ET): JT[k] = the derivative of f along i = coordinates[k] by ``rule`` with steps h,
    from the values of f at x0 + s e_i (``evaluations``, on ``backend``, with ``workers``
    threads or a map-like for "python"); ET the error estimate
    of "richardson", else None. The quotients are scipy's, to the bit:

        "2-point"   (f(x0 + h e_i) - f0) / dx,     dx = (x0_i + h_i) - x0_i
        "3-point"   (f(x0 + h e_i) - f(x0 - h e_i)) / dx,     dx = (x0_i + h_i) - (x0_i - h_i);
                    where ``one_sided``, (-3 f0 + 4 f(x0 + h e_i) - f(x0 + 2h e_i)) / dx,
                    dx = (x0_i + 2 h_i) - x0_i; both with the points rounded to x0's dtype
                    (``stored``), as scipy forms them
        "cs"        Im f(x0 + i h e_i) / h_i

    and "backward", "central4", "richardson" are ``fastgrad.rules.combine``'s rules."""
    at = functools.partial(evaluations, backend, workers, fun, args, kwargs, x0, f0, coordinates)
    x, h, f0 = x0[coordinates], h[coordinates], f0[None, :]
    if rule.name == "forward":
        return (at(h) - f0) / ((x + h) - x)[:, None], None
    if rule.name == "central":
        sided = one_sided[coordinates]
        first, second = at(np.where(sided, h, -h)), at(np.where(sided, 2 * h, h))
        JT = (second - first) / (calls.stored(x, h) - calls.stored(x, -h))[:, None]
        JT[sided] = ((-3.0 * f0 + 4 * first[sided] - second[sided]) / (calls.stored(x, 2 * h) - x)[sided, None])
        return JT, None
    if rule.complex:
        return at(h * 1j).imag / h[:, None], None

    def difference(s, m, multiplier):  # D_m(s) of methods.py, one column per coordinate
        return (at(s) - (at(-s) if m else f0)).T

    G, E = combine(rule.name, difference, h, f0.T, lambda s: taken(x, s))
    return G.T, (None if E is None else E.T)


def evaluations(backend, workers, fun, args, kwargs, x0, f0, coordinates, steps):
    """F (coordinates, m): F[k] = f(x0 + steps[k] e_i), i = coordinates[k], on ``backend``
    (complex steps evaluate f at complex points; real ones keep f0's dtype, as scipy). An
    error raised by f names the first coordinate whose point raises it: a TypeError stays one
    (as scipy's), any other is a ValueError."""
    check_allocation("x0", f"the values of f at {coordinates.size} points of x0 ({f0.size} each)",
                     16 * coordinates.size * f0.size)  # and the Jacobian as large
    try:
        return _evaluations(backend, workers, fun, args, kwargs, x0, f0, coordinates, steps)
    except (ValueError, TypeError) as exc:
        if str(exc).startswith(("fun:", "workers:", "kwargs:", "backend:")):
            raise  # already says what is wrong
        raise _failing_point(fun, args, kwargs, x0, coordinates, steps, exc) from None
    except Exception as exc:  # ZeroDivisionError, KeyError, numba's SystemError from a parallel loop, ...
        raise _failing_point(fun, args, kwargs, x0, coordinates, steps, exc) from None


def _failing_point(fun, args, kwargs, x0, coordinates, steps, exc):
    """A ValueError (a TypeError for one) naming the first coordinate i whose point x0 + s e_i
    makes f raise (f called from Python, one point after another)."""
    call = calls.Call(fun, args, kwargs, x0.dtype)
    start = x0.astype(complex) if np.iscomplexobj(steps) else x0
    for i, s in zip(coordinates, steps):
        try:
            call(_stepped(start, i, s))
        except Exception as first:  # noqa: BLE001 (the user's function may raise anything)
            kind = TypeError if isinstance(first, TypeError) else ValueError
            return kind(f"fun: raised {type(first).__name__} at x0 + {s:.3g} e_{i}: {first}")
    return (TypeError if isinstance(exc, TypeError) else ValueError)(
        f"fun: raised {type(exc).__name__} at a point near x0: {exc}")


def _evaluations(backend, workers, fun, args, kwargs, x0, f0, coordinates, steps):
    complex_steps = np.iscomplexobj(steps)
    start = x0.astype(complex) if complex_steps else x0
    F = np.empty((coordinates.size, f0.size), dtype=complex if complex_steps else f0.dtype)
    call = calls.Call(fun, args, kwargs, x0.dtype)
    if backend == policy.PYTHON and callable(workers):
        points = (_stepped(start, i, s) for i, s in zip(coordinates, steps))
        for k, value in enumerate(workers(call, points)):
            F[k] = value
    elif backend == policy.PYTHON:
        loop = specialise.bound(any_function.shared_evaluations, (("fun", call),))
        loop((), start, coordinates, steps, 1, F)
    else:
        backend = calls.running(backend, workers)
        loop = calls.compiled(any_function.shared_evaluations, fun, backend)
        with calls.threads(backend, workers):
            _in_blocks(lambda a, b: loop(tuple(args), start, coordinates[a:b], steps[a:b],
                                         calls.shares(backend, workers), F[a:b]), coordinates.size)
    return F


BLOCK_SECONDS = 0.2  # a compiled loop over coordinates returns to Python (and Ctrl-C) this often


def _in_blocks(run, n):
    """run(a, b) over consecutive blocks covering 0..n, growing (x4 at most) or shrinking so that
    one takes about BLOCK_SECONDS: a slow function's loop can be interrupted between blocks, a
    fast one's pays for a few calls. Each coordinate's value is its own, whatever the blocks."""
    done, block = 0, 1
    while done < n:
        size = min(block, n - done)
        start = time.perf_counter()
        run(done, done + size)
        elapsed = time.perf_counter() - start
        done += size
        block = block * 4 if elapsed <= 0 else max(1, min(block * 4, int(block * BLOCK_SECONDS / elapsed)))


def _stepped(x0, i, s):
    """A copy of x0 with x_i = x0_i + s (a point of its own for each call, as scipy's)."""
    x = x0.copy()
    x[i] = x0[i] + s
    return x


def _columns_on_cluster(problem, coordinates, client, blocks):
    """``columns`` of contiguous blocks of coordinates as tasks on the Dask cluster, each by
    the serial loop; stacked in order."""
    client, bounds = calls.cluster_blocks(client, blocks, coordinates.size)
    serial = calls.serial_backend(problem[0], problem[2])
    parts = dask_backend.run_blocks(client, columns, problem,
                                    [(coordinates[a:b], serial) for a, b in zip(bounds[:-1], bounds[1:])])
    JT = np.concatenate([J for J, _ in parts])
    return JT, (None if parts[0][1] is None else np.concatenate([E for _, E in parts]))


def check_grad(func: Callable, grad: Callable, x0: ArrayLike, *args: Any, epsilon: float = EPS ** 0.5,
               direction: str = "all", seed: int | None = None, backend: str | None = None) -> float:
    """scipy's ``check_grad``: the 2-norm of grad(x0) minus the forward-difference gradient
    of ``func`` (step ``epsilon``); direction="random" compares the derivative along one
    random direction (numpy.random.default_rng(seed)) instead."""
    choice("direction", direction, ("all", "random"))
    x0 = calls.point(x0)
    if direction == "all":
        analytic = numbers("grad", grad(x0, *args), complex_ok=True)  # scipy's norm takes |complex|
        numeric = approx_derivative(func, x0, method="2-point", abs_step=epsilon, args=args, backend=backend)
    else:
        gradient = numbers("grad", grad(x0, *args), complex_ok=True)
        if gradient.ndim > 1:
            raise ValueError("direction: 'random' needs a scalar function; grad returned shape "
                             f"{gradient.shape}")
        v = seeded_rng(seed).standard_normal(size=x0.shape)
        analytic = gradient @ v
        numeric = approx_derivative(lambda w: func(x0 + w * v, *args), np.zeros(1), method="2-point",
                                    abs_step=epsilon, backend=policy.PYTHON)
    return float(np.sqrt(np.sum(np.abs(analytic - numeric) ** 2)))


@dataclass(frozen=True)
class Comparison:
    """A given derivative ``a`` against finite differences ``g``, entry by entry: an entry
    passes when |a - g| <= atol + rtol |g|; its relative error is |a - g| / max(|a|, |g|)
    (``fastgrad.check.relative_error``); ``worst`` lists (index, a, g, |a - g|, relative
    error), worst first (by |a - g| / (atol + rtol |g|)). ``str()`` prints a table."""
    passed: bool
    max_abs_error: float
    norm: float                    # ||a - g||_2, scipy check_grad's number
    worst: list
    max_rel_error: float = float("nan")
    rtol: float = 1e-5
    atol: float = 1e-8
    method: str = ""

    def text(self, name):
        lines = [f"check {'PASSED' if self.passed else 'FAILED'}: {name} against the differences, "
                 f"max abs error {self.max_abs_error:.3e}, max rel error {self.max_rel_error:.3e}, "
                 f"2-norm {self.norm:.3e}"]
        lines += [f"  entry {index}: given {a:.12e}  differences {g:.12e}  abs error {e:.2e}  rel error {r:.2e}"
                  for index, a, g, e, r in self.worst]
        return "\n".join(lines)

    def __str__(self):
        lines = [f"derivative check {'PASSED' if self.passed else 'FAILED'} (method={self.method or '?'}, "
                 f"rtol={self.rtol:g}, atol={self.atol:g}): max abs error {self.max_abs_error:.3e}, "
                 f"max rel error {self.max_rel_error:.3e}, 2-norm {self.norm:.3e}"]
        if self.worst:
            lines.append("worst entries:")
            lines.append(f"{'index':>10}  {'given':>18}  {'differences':>18}  {'abs err':>9}  {'rel err':>9}  ok")
            for index, a, g, e, r in self.worst:
                ok = e <= self.atol + self.rtol * abs(g)
                lines.append(f"{','.join(map(str, index)):>10}  {a:>18.10e}  {g:>18.10e}  {e:>9.2e}  {r:>9.2e}  "
                             f"{'yes' if ok else 'NO'}")
        return "\n".join(lines)

    def to_json(self):
        return {"passed": self.passed, "max_abs_error": self.max_abs_error, "max_rel_error": self.max_rel_error,
                "norm": self.norm, "rtol": self.rtol, "atol": self.atol, "method": self.method,
                "worst": [{"index": list(i), "given": a, "differences": g, "abs_error": e, "rel_error": r}
                          for i, a, g, e, r in self.worst]}


def numbers(name, values, complex_ok=False):
    """``values`` (what the function ``name`` returned) as a float array, or complex where
    ``complex_ok`` and they are; anything else is a ValueError naming ``name``."""
    array = np.asarray(values)
    if array.dtype.kind == "c" and not complex_ok:
        raise ValueError(f"{name}: returned complex values; the derivative of a real function is real")
    if array.dtype.kind not in "iufbc":
        raise ValueError(f"{name}: returned {array.dtype} values; expected numbers")
    return array if array.dtype.kind == "c" else array.astype(float)


def compare(given: ArrayLike, differences: np.ndarray, rtol: float = 1e-5, atol: float = 1e-8,
            top: int = 5, method: str = "") -> Comparison:
    """``given`` (a gradient or Jacobian function's value) against ``differences`` (from
    ``approx_derivative`` by ``method``), entry by entry; a shape that differs is a ValueError."""
    a = numbers("grad", given)
    if a.shape != differences.shape:
        raise ValueError(f"check: the given derivative has shape {a.shape}, the differences {differences.shape}")
    error = np.abs(a - differences)
    relative = relative_error(a, differences)
    badness = np.nan_to_num(error / (atol + rtol * np.abs(differences)), nan=np.inf)
    order = np.argsort(-badness, axis=None, kind="stable")[:top]
    worst = [(tuple(int(k) for k in np.unravel_index(q, a.shape)), float(a.flat[q]), float(differences.flat[q]),
              float(error.flat[q]), float(relative.flat[q])) for q in order]
    finite = relative[~np.isnan(relative)]
    return Comparison(bool(np.all(badness <= 1.0)), float(np.nanmax(error)) if error.size else 0.0,
                      float(np.sqrt(np.sum(error ** 2))), worst, float(finite.max()) if finite.size else float("nan"),
                      rtol, atol, method)
