"""Second derivatives of any scalar function f(x, *args): ``hessian``, ``hessian_diagonal`` and
``hessian_vector_product``; the loops compiled (and spread over threads) when f is
numba-compiled, as ``approx_derivative``'s.

Methods (equations in ``kernels/any_function``'s ``hessian_rows``, ``forward_hessian_rows``
and ``complex_hessian_rows``), with their default steps h_i = r max(1, |x_i|), rounded so
that x_i + h_i is exact, r balancing truncation against round-off:

    central        error O(h^2), round-off eps |f| / h^2:  r = eps^(1/4), about eps^(1/2) relative
    forward        error O(h),   round-off eps |f| / h^2:  r = eps^(1/3), about eps^(1/3) relative
    complex-step   a central difference (error O(h^2)) of the complex-step first derivative
                   (imaginary step 1e-20 max(1, |x_i|), no cancellation): round-off eps |g| / h,
                   r = eps^(1/3), about eps^(2/3) relative; f must take complex x

Symmetric by construction (the upper triangle is computed and mirrored). ``sparsity``, a
symmetric structure (n, n), computes only its entries (the others are 0).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from . import calls, policy
from .derivatives import evaluations
from .kernels import any_function, specialise
from .rules import EPS, RULES

HESSIAN_METHODS = ("central", "forward", "complex-step")
RELATIVE_STEPS = {"central": EPS ** 0.25, "forward": EPS ** (1 / 3), "complex-step": EPS ** (1 / 3)}
IMAGINARY_STEP = 1e-20


def hessian(fun: Callable, x0: ArrayLike, method: str = "central", step: ArrayLike | None = None,
            sparsity: ArrayLike | None = None, args: tuple = (), backend: str | None = None) -> np.ndarray:
    """The Hessian (n, n) of a scalar ``fun(x, *args)`` at ``x0`` by second differences.

    ``method``: "central", "forward" or "complex-step" (module docstring);
    ``step``: absolute steps h (a positive number or n of them), default the method's rule;
    ``sparsity``: a symmetric structure (n, n), array or scipy sparse: entries outside it are
    not evaluated and are 0; ``backend`` as in ``approx_derivative``.

    Examples
    --------
    >>> import numpy as np, fastgrad as fg
    >>> fg.hessian(lambda x: x[0] ** 2 * x[1], [1.0, 2.0]).round(6)  # doctest: +SKIP
    array([[4., 2.],
           [2., 0.]])
    """
    x0, backend, call, f0, h = _setup(fun, x0, method, step, args, backend)
    mask = _mask(sparsity, x0.size)
    H = np.zeros((x0.size, x0.size))
    if method == "central":
        _run(any_function.hessian_rows, fun, call, args, backend, x0, f0, h, mask, H)
    elif method == "forward":
        single = _evaluator(backend, fun, args, x0)(h)
        _run(any_function.forward_hessian_rows, fun, call, args, backend, x0, f0, single, h, mask, H)
    else:
        _run(any_function.complex_hessian_rows, fun, call, args, backend, x0.astype(complex), h, _imaginary(x0),
             mask, H)
    upper = np.triu(H, 1)
    return np.diag(np.diag(H)) + upper + upper.T


def hessian_diagonal(fun: Callable, x0: ArrayLike, method: str = "central", step: ArrayLike | None = None,
                     args: tuple = (), backend: str | None = None) -> np.ndarray:
    """The diagonal (n,) of the Hessian of a scalar ``fun(x, *args)`` at ``x0``, from 2n
    evaluations (``hessian``'s diagonal, to the bit; options as ``hessian``'s):

        central        (f(x + 2h_i e_i) - 2 f0 + f(x - 2h_i e_i)) / (4 h_i^2)
        forward        (f(x + 2h_i e_i) - f(x + h_i e_i) - f(x + h_i e_i) + f0) / h_i^2
        complex-step   Im(f(x + (h_i + i t_i) e_i) - f(x + (-h_i + i t_i) e_i)) / (2 t_i h_i)
    """
    x0, backend, _, f0, h = _setup(fun, x0, method, step, args, backend)
    at = _evaluator(backend, fun, args, x0)
    if method == "central":
        return (at(2 * h) - 2.0 * f0 + at(-2 * h)) / (4.0 * h * h)
    if method == "forward":
        single = at(h)
        return (at(2 * h) - single - single + f0) / (h * h)
    t = _imaginary(x0)
    return (at(h + 1j * t).imag - at(-h + 1j * t).imag) / (2.0 * t * h)


def hessian_vector_product(grad: Callable, x0: ArrayLike, v: ArrayLike, args: tuple = ()) -> np.ndarray:
    """H v for the Hessian H of a function whose gradient is ``grad(x, *args)``, by central
    differences of the gradient along v: (grad(x0 + t v) - grad(x0 - t v)) / 2t, with
    t = eps^(1/3) max(1, ||x0||) / ||v|| (the central rule's step for the scale of x0 along
    v; the difference divides by the step as floating point takes it along v's largest entry);
    two gradient evaluations whatever n."""
    x0 = calls.point(x0)
    v = np.asarray(v, dtype=float)
    if v.shape != x0.shape or not np.isfinite(v).all():
        raise ValueError(f"v: expected {x0.size} finite numbers, got shape {v.shape}")
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        return np.zeros_like(x0)
    t = RULES["central"].relative_step * max(1.0, float(np.linalg.norm(x0))) / norm
    call = calls.Call(grad, args)
    up, down = (calls.value(call, x0 + sign * t * v, name="grad") for sign in (1.0, -1.0))
    if up.shape != x0.shape:
        raise ValueError(f"grad: returned shape {up.shape}; expected the gradient's ({x0.size},)")
    k = int(np.argmax(np.abs(v)))
    taken = ((x0[k] + t * v[k]) - (x0[k] - t * v[k])) / v[k]  # 2t as x0 + t v and x0 - t v were formed
    return (up - down) / taken


def _setup(fun, x0, method, step, args, backend):
    """(x0, backend, call, f0 as a float, exact steps h), checked."""
    if method not in HESSIAN_METHODS:
        raise ValueError(f"method: unknown {method!r}; expected one of {', '.join(HESSIAN_METHODS)}")
    x0 = calls.point(x0)
    backend = calls.backend_of(backend, fun, {})
    if backend not in policy.MACHINE_DERIVATIVE_BACKENDS:
        *others, last = policy.MACHINE_DERIVATIVE_BACKENDS
        raise ValueError(f"backend: hessian runs on {', '.join(others)} or {last}, not {backend!r}")
    call = calls.Call(fun, args)
    f0 = float(calls.value(call, x0, scalar=True)[0])
    if step is None:
        h = RELATIVE_STEPS[method] * np.maximum(1.0, np.abs(x0))
    else:
        h = np.broadcast_to(np.asarray(step, dtype=float), x0.shape) if np.ndim(step) <= 1 else None
        if h is None or not (np.isfinite(h).all() and (h > 0).all()):
            raise ValueError(f"step: expected a positive number or {x0.size} of them")
    h = (x0 + h) - x0  # steps that x0 + h forms exactly
    return x0, backend, call, f0, h


def _mask(sparsity, n):
    """Which entries to evaluate: all, or the nonzeros of a structure (n, n), made symmetric."""
    if sparsity is None:
        return np.ones((n, n), dtype=bool)
    A = sparsity.toarray() if hasattr(sparsity, "toarray") else np.asarray(sparsity)
    if A.shape != (n, n):
        raise ValueError(f"sparsity: expected a structure of shape ({n}, {n}), got {A.shape}")
    return (A != 0) | (A.T != 0)


def _imaginary(x0):
    return IMAGINARY_STEP * np.maximum(1.0, np.abs(x0))


def _run(loop, fun, call, args, backend, *arguments):
    """``loop`` with f bound: interpreted on "python", else compiled (over threads on "numba-parallel")."""
    *data, H = arguments
    if backend == policy.PYTHON:
        specialise.bound(loop, (("fun", call),))((), *data, 1, H)
    else:
        backend = calls.running(backend)
        calls.compiled(loop, fun, backend)(tuple(args), *data, policy.shares(backend), H)


def _evaluator(backend, fun, args, x0):
    """steps -> (n,): f(x0 + steps[i] e_i) for each i, by ``approx_derivative``'s loop."""
    coordinates = np.arange(x0.size)
    return lambda steps: evaluations(backend, None, fun, args, {}, x0, np.zeros(1), coordinates, steps)[:, 0]

