"""Derivatives of any function f(x, *args): ``approx_derivative`` and ``check_grad`` with
scipy's semantics, and ``hessian``; the loop over coordinates compiled (and spread over
threads) when f is numba-compiled.

Steps and bounds follow ``scipy.optimize.approx_derivative`` (scipy 1.17), in float64
(``bounded_steps``).

Rules (equations in ``columns``): scipy's "2-point", "3-point" and "cs", each dividing by the
step as floating point takes it, as scipy does; and fastgrad's "backward", "central4" and
"richardson", the rules of ``fastgrad.gradients.methods`` (orders 1, 4 and 6) with its
default steps, h_i = eps^(1/(order+1)) max(1, |x_i|) (rel_step and abs_step as above, taken
positive); their points must lie within the bounds (no one-sided variant), else a ValueError.
All of them evaluate f at x0 + s e_i by one loop, ``kernels/any_function.evaluations``.

The Hessian of a scalar f (``hessian``): central second differences (equations in
``hessian_rows``) with h_i = eps^(1/4) max(1, |x_i|) rounded so that x_i + h_i is exact:
truncation O(h^2) and round-off eps |f| / h^2 balance there, about eps^(1/2) relative.
Symmetric by construction (the upper triangle is computed and mirrored).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from numba.core.errors import NumbaError
from numba.core.registry import CPUDispatcher
from numpy.typing import ArrayLike

from . import dask_backend, policy
from .bounded_steps import bounds_of, central_within, check_stencil_within, one_sided_within, steps_of
from .kernels import any_function, specialise
from .rules import RULES, combine, rule_of, taken
from .validation import choice, seeded_rng

if TYPE_CHECKING:
    import distributed

EPS = np.finfo(np.float64).eps
METHODS = tuple(name for rule in RULES.values() for name in (rule.scipy_name, rule.name) if name)  # scipy's first
HESSIAN_STEP = EPS ** 0.25


def approx_derivative(fun: Callable, x0: ArrayLike, method: str = "3-point", rel_step: ArrayLike | None = None,
                      abs_step: ArrayLike | None = None, f0: ArrayLike | None = None,
                      bounds: tuple = (-np.inf, np.inf), args: tuple = (), kwargs: dict | None = None,
                      full_output: bool = False, backend: str | None = None,
                      client: distributed.Client | None = None, blocks: int | None = None) -> np.ndarray | tuple:
    """The derivative of ``fun(x, *args, **kwargs)`` at ``x0`` by finite differences, with the
    arguments, steps, bounds and shapes of ``scipy.optimize.approx_derivative``: the gradient
    (n,) of a scalar function, the Jacobian (m, n) of a vector one.

    ``method``: scipy's "2-point", "3-point", "cs" or fastgrad's names for them, "forward",
    "central", "complex-step"; and fastgrad's higher-order "central4" and "richardson" and
    "backward" (module docstring). ``backend``: "python" (the loop calls ``fun`` from Python),
    "numba" or "numba-parallel" (``fun`` a numba-compiled function: the loop compiled, the
    coordinates spread over threads, equal to "numba" bit for bit); "dask": blocks of
    coordinates as tasks on a Dask cluster (``client``, default Dask's current one; ``blocks``
    of them, default 4 per worker thread), each the serial loop ("numba" for a numba
    function, else "python"), equal to it bit for bit; None picks "numba-parallel" for a
    numba-compiled ``fun`` without kwargs, else "python".
    ``full_output=True`` returns (J, {"nfev": evaluations, "backend": backend}), and for
    "richardson" also "error_estimate", shaped like J.
    """
    rule = rule_of(method)
    x0 = _point(x0)
    kwargs = {} if kwargs is None else dict(kwargs)
    backend = _backend(backend, fun, kwargs)
    for name, given in (("client", client), ("blocks", blocks)):
        if given is not None and backend != policy.DASK:
            raise ValueError(f"{name}: only for backend='dask', not {backend!r}")
    call = _caller(fun, args, kwargs)
    nfev = 0
    if f0 is None:
        f0 = _value(call, x0)
        nfev = 1
    else:
        f0 = np.atleast_1d(np.asarray(f0, dtype=float))
        if f0.ndim > 1:
            raise ValueError(f"f0: expected a scalar or a 1-D array, got shape {f0.shape}")
    lb, ub = bounds_of(bounds, x0)
    h = steps_of(x0, rule, rel_step, abs_step)
    one_sided = np.zeros(x0.size, dtype=bool)
    if rule.name == "forward":
        h = one_sided_within(x0, h, lb, ub)
    elif rule.name == "central":
        h, one_sided = central_within(x0, h, lb, ub)
    elif not rule.complex:
        check_stencil_within(rule, x0, h, lb, ub)
    coordinates = np.arange(x0.size)
    problem = (fun, tuple(args), kwargs, rule, x0, f0, h, one_sided)
    if backend == policy.DASK:
        JT, ET = _columns_on_cluster(problem, coordinates, client, blocks)
    else:
        JT, ET = columns(*problem, coordinates, backend)
    nfev += rule.evaluations * x0.size
    J = JT.ravel() if f0.size == 1 else JT.T
    if not full_output:
        return J
    info = {"nfev": nfev, "backend": backend}
    if ET is not None:
        info["error_estimate"] = ET.ravel() if f0.size == 1 else ET.T
    return J, info


def columns(fun, args, kwargs, rule, x0, f0, h, one_sided, coordinates, backend):
    """(JT, ET): JT[k] = the derivative of f along i = coordinates[k] by ``rule`` with steps h,
    from the values of f at x0 + s e_i (``evaluations``, on ``backend``); ET the error estimate
    of "richardson", else None. The quotients are scipy's, to the bit:

        "2-point"   (f(x0 + h e_i) - f0) / dx,     dx = (x0_i + h_i) - x0_i
        "3-point"   (f(x0 + h e_i) - f(x0 - h e_i)) / dx,     dx = (x0_i + h_i) - (x0_i - h_i);
                    where ``one_sided``, (-3 f0 + 4 f(x0 + h e_i) - f(x0 + 2h e_i)) / dx,
                    dx = (x0_i + 2 h_i) - x0_i
        "cs"        Im f(x0 + i h e_i) / h_i

    and "backward", "central4", "richardson" are ``fastgrad.rules.combine``'s rules."""
    at = functools.partial(_evaluations, backend, fun, args, kwargs, x0, f0.size, coordinates)
    x, h, f0 = x0[coordinates], h[coordinates], f0[None, :]
    if rule.name == "forward":
        return (at(h) - f0) / ((x + h) - x)[:, None], None
    if rule.name == "central":
        sided = one_sided[coordinates]
        first, second = at(np.where(sided, h, -h)), at(np.where(sided, 2 * h, h))
        JT = (second - first) / ((x + h) - (x - h))[:, None]
        JT[sided] = ((-3.0 * f0 + 4 * first[sided] - second[sided]) / ((x + 2 * h) - x)[sided, None])
        return JT, None
    if rule.complex:
        return at(h * 1j).imag / h[:, None], None

    def difference(s, m, multiplier):  # D_m(s) of methods.py, one column per coordinate
        return (at(s) - (at(-s) if m else f0)).T

    G, E = combine(rule.name, difference, h, f0.T, lambda s: taken(x, s))
    return G.T, (None if E is None else E.T)


def _evaluations(backend, fun, args, kwargs, x0, size, coordinates, steps):
    """F (coordinates, size): F[k] = f(x0 + steps[k] e_i), i = coordinates[k], on ``backend``
    (complex steps evaluate f at complex points)."""
    start = x0.astype(steps.dtype)
    F = np.empty((coordinates.size, size), dtype=steps.dtype)
    if backend == policy.PYTHON:
        loop = specialise.bound(any_function.shared_evaluations, (("fun", _caller(fun, args, kwargs)),))
        loop((), start, coordinates, steps, 1, F)
    else:
        _compiled(any_function.shared_evaluations, fun, backend)(tuple(args), start, coordinates, steps,
                                                                  policy.shares(backend), F)
    return F


def _columns_on_cluster(problem, coordinates, client, blocks):
    """``columns`` of contiguous blocks of coordinates as tasks on the Dask cluster, each by
    the serial loop; stacked in order."""
    client = dask_backend.find_client(client)
    count = dask_backend.check_blocks(blocks) or dask_backend.BLOCKS_PER_THREAD * dask_backend.worker_threads(client)
    bounds = np.unique(np.linspace(0, coordinates.size, min(count, coordinates.size) + 1).astype(np.int64))
    fun, kwargs = problem[0], problem[2]
    serial = policy.NUMBA if isinstance(fun, CPUDispatcher) and not kwargs else policy.PYTHON
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
    x0 = _point(x0)
    if direction == "all":
        analytic = np.asarray(grad(x0, *args), dtype=float)
        numeric = approx_derivative(func, x0, method="2-point", abs_step=epsilon, args=args, backend=backend)
    else:
        gradient = np.asarray(grad(x0, *args), dtype=float)
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
    passes when |a - g| <= atol + rtol |g|; ``worst`` lists (index, a, g, |a - g|), worst first."""
    passed: bool
    max_abs_error: float
    norm: float                    # ||a - g||_2, scipy check_grad's number
    worst: list

    def text(self, name):
        lines = [f"check {'PASSED' if self.passed else 'FAILED'}: {name} against the differences, "
                 f"max abs error {self.max_abs_error:.3e}, 2-norm {self.norm:.3e}"]
        lines += [f"  entry {index}: given {a:.12e}  differences {g:.12e}  abs error {e:.2e}"
                  for index, a, g, e in self.worst]
        return "\n".join(lines)

    def to_json(self):
        return {"passed": self.passed, "max_abs_error": self.max_abs_error, "norm": self.norm,
                "worst": [{"index": list(i), "given": a, "differences": g, "abs_error": e}
                          for i, a, g, e in self.worst]}


def compare(given: ArrayLike, differences: np.ndarray, rtol: float = 1e-5, atol: float = 1e-8,
            top: int = 5) -> Comparison:
    """``given`` (a gradient or Jacobian function's value) against ``differences`` (from
    ``approx_derivative``), entry by entry; a shape that differs is a ValueError."""
    a = np.asarray(given, dtype=float)
    if a.shape != differences.shape:
        raise ValueError(f"check: the given derivative has shape {a.shape}, the differences {differences.shape}")
    error = np.abs(a - differences)
    badness = np.nan_to_num(error / (atol + rtol * np.abs(differences)), nan=np.inf)
    order = np.argsort(-badness, axis=None, kind="stable")[:top]
    worst = [(tuple(int(k) for k in np.unravel_index(q, a.shape)), float(a.flat[q]), float(differences.flat[q]),
              float(error.flat[q])) for q in order]
    return Comparison(bool(np.all(badness <= 1.0)), float(np.nanmax(error)) if error.size else 0.0,
                      float(np.sqrt(np.sum(error ** 2))), worst)


def hessian(fun: Callable, x0: ArrayLike, args: tuple = (), backend: str | None = None) -> np.ndarray:
    """The Hessian (n, n) of a scalar ``fun(x, *args)`` at ``x0`` by central second
    differences (module docstring); ``backend`` as in ``approx_derivative``."""
    x0 = _point(x0)
    backend = _backend(backend, fun, {})
    if backend not in policy.MACHINE_DERIVATIVE_BACKENDS:
        *others, last = policy.MACHINE_DERIVATIVE_BACKENDS
        raise ValueError(f"backend: hessian runs on {', '.join(others)} or {last}, not {backend!r}")
    call = _caller(fun, args, {})
    f0 = _value(call, x0, scalar=True)
    h = HESSIAN_STEP * np.maximum(1.0, np.abs(x0))
    h = (x0 + h) - x0  # steps that x0 + h forms exactly
    H = np.zeros((x0.size, x0.size))
    if backend == policy.PYTHON:
        specialise.bound(any_function.hessian_rows, (("fun", call),))((), x0, float(f0[0]), h, 1, H)
    else:
        kernel = _compiled(any_function.hessian_rows, fun, backend)
        kernel(tuple(args), x0, float(f0[0]), h, policy.shares(backend), H)
    upper = np.triu(H, 1)
    return np.diag(np.diag(H)) + upper + upper.T


def hessian_vector_product(grad: Callable, x0: ArrayLike, v: ArrayLike, args: tuple = ()) -> np.ndarray:
    """H v for the Hessian H of a function whose gradient is ``grad(x, *args)``, by central
    differences of the gradient along v: (grad(x0 + t v) - grad(x0 - t v)) / 2t, with
    t = eps^(1/3) max(1, ||x0||) / ||v|| (the central rule's step for the scale of x0 along
    v; the difference divides by the step as floating point takes it along v's largest entry);
    two gradient evaluations whatever n."""
    x0 = _point(x0)
    v = np.asarray(v, dtype=float)
    if v.shape != x0.shape or not np.isfinite(v).all():
        raise ValueError(f"v: expected {x0.size} finite numbers, got shape {v.shape}")
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        return np.zeros_like(x0)
    t = RULES["central"].relative_step * max(1.0, float(np.linalg.norm(x0))) / norm
    call = _caller(grad, args, {})
    up, down = (_value(call, x0 + sign * t * v, name="grad") for sign in (1.0, -1.0))
    if up.shape != x0.shape:
        raise ValueError(f"grad: returned shape {up.shape}; expected the gradient's ({x0.size},)")
    k = int(np.argmax(np.abs(v)))
    taken = ((x0[k] + t * v[k]) - (x0[k] - t * v[k])) / v[k]  # 2t as x0 + t v and x0 - t v were formed
    return (up - down) / taken


def _point(x0):
    """x0 as a 1-D float64 array, checked."""
    x = np.asarray(x0)
    if x.dtype.kind not in "iufb":
        raise ValueError(f"x0: expected real numbers, got {x.dtype}")
    x = np.atleast_1d(x.astype(np.float64))
    if x.ndim > 1:
        raise ValueError(f"x0: expected a scalar or a 1-D array, got shape {x.shape}")
    return x


def _backend(backend, fun, kwargs):
    """The backend asked for, or the one that fits ``fun``; compiled backends need a numba function."""
    compiled = isinstance(fun, CPUDispatcher)
    if backend is None:
        return policy.NUMBA_PARALLEL if compiled and not kwargs else policy.PYTHON
    choice("backend", backend, policy.DERIVATIVE_BACKENDS)
    if backend in (policy.NUMBA, policy.NUMBA_PARALLEL):
        if not compiled:
            raise ValueError(f"backend: {backend!r} compiles the loop around a numba-compiled fun (@numba.njit); "
                             f"{_name(fun)} is not one (use backend='python')")
        if kwargs:
            raise ValueError("kwargs: the compiled loop passes positional args only; use args or backend='python'")
    return backend


def _name(fun):
    return getattr(fun, "__name__", None) or type(fun).__name__


def _caller(fun, args, kwargs):
    """x -> fun(x, *args, **kwargs)."""
    if not callable(fun):
        raise ValueError(f"fun: expected a callable, got {type(fun).__name__}")
    args = tuple(args)
    return lambda x: fun(x, *args, **kwargs)


def _value(call, x, scalar=False, name="fun"):
    """f(x) as a 1-D float array (f a scalar function when ``scalar``); errors say ``name``."""
    try:
        value = call(x)
    except Exception as exc:
        raise ValueError(f"{name}: raised {type(exc).__name__} at x0: {exc}") from exc
    if scalar and np.ndim(value) != 0:
        raise ValueError(f"{name}: hessian needs a scalar function; {name} returned shape {np.shape(value)}")
    f = np.atleast_1d(np.asarray(value))
    if f.dtype.kind not in "iufb":
        raise TypeError(f"{name}: returned {f.dtype} values; expected real numbers")
    if f.ndim > 1:
        raise ValueError(f"{name}: returned shape {f.shape}; expected a scalar or a 1-D array")
    return f.astype(np.float64)


def _compiled(loop, fun, backend):
    """Template ``loop`` compiled around the numba function ``fun`` (in memory: see
    kernels/any_function.py), over threads for "numba-parallel"; a failure to compile is a
    TypeError naming ``fun``."""
    kernel = specialise.specialise(loop, (("fun", fun),), parallel=backend == policy.NUMBA_PARALLEL, cache=False)

    def run(*arguments):
        try:
            return kernel(*arguments)
        except NumbaError as exc:
            lines = [line.strip() for line in str(exc).splitlines()
                     if line.strip() and not line.startswith("Failed in")]
            reason = lines[0] if lines else type(exc).__name__
            raise TypeError(f"fun: numba could not compile the loop around {_name(fun)}(x, *args) ({reason}); "
                            "backend='python' calls it from Python") from None
    return run
