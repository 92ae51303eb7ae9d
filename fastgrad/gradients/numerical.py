"""Numerical gradient by finite differences, with a choice of method, step, backend and strategy.

Methods and step rules are in ``fastgrad.rules``; which backend runs is ``fastgrad.policy``'s. The compiled backends evaluate each pair of
losses either in "full" (a whole forward pass each) or "incremental"ly (only what the
perturbation changes; see kernels/incremental.py); complex-step always re-evaluates in
full, in complex arithmetic.
"""
from __future__ import annotations

import functools
from math import isfinite
from typing import TYPE_CHECKING, Callable, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from .. import dask_backend, losses, policy, registry, runtime
from ..kernels import jobs
from ..custom import Activation, Loss
from ..model import MLP
from ..problem import OneCallProblem, Problem, gradient_buffer
from ..rules import METHODS, RULES, base_step, combine, step_sizes, taken
from ..validation import choice, difference_step
from .reference import numpy_differences, python_differences

if TYPE_CHECKING:
    import distributed

STRATEGIES = ("incremental", "full")
NOT_ANALYTIC = tuple(name for name, record in registry.ACTIVATION.items() if not record.smooth)


class NumericalGradient(NamedTuple):
    """What ``numerical_gradient(..., full_output=True)`` returns."""
    gradient: np.ndarray
    steps: np.ndarray             # the step h_q used for each entry
    error_estimate: np.ndarray    # richardson only, else None
    method: str


def numerical_gradient(net: MLP, X: ArrayLike, Y: ArrayLike, loss: str | None = None, h: float | None = None,
                       backend: str = policy.DEFAULT, entries: ArrayLike | None = None, strategy: str | None = None,
                       method: str = "central", full_output: bool = False,
                       client: distributed.Client | None = None, blocks: int | None = None,
                       progress: Callable[[int, int], None] | None = None) -> np.ndarray | NumericalGradient:
    """dE/dtheta by finite differences.

    Parameters
    ----------
    net : MLP
    X : array (n, d)
    Y : array (n, p)
    loss : {"squared", "mse", "cross-entropy"} or None
        None picks the output's natural loss (cross-entropy after softmax, else squared).
    h : float or None
        Absolute step for every entry; None applies the method's default rule,
        eps^(1/(order+1)) max(1, |theta_q|) (see ``fastgrad.gradients.methods``).
    backend : {"numba-parallel", "numba", "dask", "numpy", "python"}
        "python": plain Python loops; "numpy": a Python loop over entries with a numpy
        forward pass (the textbook's way); "numba": the loop and the forward pass
        compiled; "numba-parallel": the same with the entries spread over threads, equal
        to "numba" bit for bit; "dask": blocks of entries run by "numba" on the workers of
        a Dask cluster (``fastgrad.dask_backend``), equal to "numba" bit for bit.
    entries : array of int or None
        Indices into theta to differentiate; None means all of them.
    strategy : {"incremental", "full"} or None
        For the numba backends: re-evaluate only what each perturbation changes (the
        default), or the whole forward pass. The python and numpy baselines are "full".
    method : {"central", "forward", "backward", "central4", "richardson", "complex-step"}
        The difference rule; complex-step needs analytic activations (not relu) and a
        numba backend.
    full_output : bool
        Return a NumericalGradient (gradient, steps, error_estimate, method) instead of
        the gradient alone.
    client : distributed.Client or None
        backend="dask" only: the cluster to use (None: Dask's current client).
    blocks : int or None
        backend="dask" only: how many tasks the entries are split into (None: sized from
        a cost estimate).
    progress : callable(blocks_done, blocks) or None
        backend="dask" only: called as blocks finish.

    Returns
    -------
    ndarray or NumericalGradient
        g aligned with ``net.theta`` (or with ``entries`` when given).
    """
    return gradient_of(OneCallProblem(net, X, Y, loss), h, backend, entries, strategy, method, full_output,
                       None, client, blocks, progress)


def gradient_of(prob, h=None, backend=policy.DEFAULT, entries=None, strategy=None, method="central",
                full_output=False, out=None, client=None, blocks=None, progress=None):
    """``numerical_gradient`` of a Problem, into ``out`` if given (then of P entries); a whole
    gradient by the default rule is planned (``Problem.plan``), so a repeated call goes straight
    to the kernel."""
    options = ("numerical", type(h), h, backend, strategy, method)  # the type: h=True must not pass as h=1
    if entries is None and not full_output and client is None and blocks is None and progress is None:
        plan = prob.plan(options)
        if plan is not None:
            return plan(prob, out)
    net = prob.net
    backend = choice("backend", backend, policy.NUMERICAL_BACKENDS)
    method = check_method(method, prob, backend)
    for name, given in (("client", client), ("blocks", blocks), ("progress", progress)):
        if given is not None and backend != "dask":
            raise ValueError(f"{name}: only for backend='dask', not {backend!r}")
    if h is not None:
        h = difference_step("h", h)
    every_entry = entries is None
    entries = prob.all_entries if every_entry else _entries(entries, net.n_params)
    if out is not None and not every_entry:
        raise ValueError("out: only for the whole gradient (entries=None)")
    strategy = check_strategy(strategy, backend)
    backend = policy.numerical_backend(backend, prob.X.shape[0], entries.size, net.n_params,
                                       "full" if RULES[method].complex else strategy)
    backend = policy.running(backend)
    if method == "central" and strategy == "incremental" and every_entry and not full_output \
            and backend != policy.DASK:
        plan = prob.remember(options, _central_incremental(prob, h, backend))
        return plan(prob, out)
    steps, base = step_sizes(net.theta[entries], method, h, exact_changes(prob, strategy))
    error = None
    if backend == policy.DASK:
        grad, steps, error = _on_cluster(prob, entries, h, method, strategy, client, blocks, progress)
    elif RULES[method].complex:
        grad = np.empty(entries.size)
        kernel = jobs.complex_step_kernel(prob.formulas, backend == policy.NUMBA_PARALLEL)
        if not isfinite(runtime.call(kernel, net.theta, net.layout, prob.XT, prob.YT, steps, entries,
                                     policy.shares(backend), grad)):
            prob.check_weights()
    else:
        difference = _difference_function(prob, backend, strategy, entries, base)
        value = losses.value(prob.loss_name, net.output_preactivation(prob.X), prob.Y, net.output) \
            if method == "richardson" else 0.0
        take = None if strategy == "incremental" else (lambda s: taken(net.theta[entries], s))
        grad, error = combine(method, difference, steps, value, take)
        steps = steps if take is None else take(steps)
    if out is not None:
        out[...] = grad
        grad = out
    if full_output:
        return NumericalGradient(grad, steps, error, method)
    return grad


def _central_incremental(prob, h, backend):
    """The plan of the default case (``Problem.plan``): step_sizes' rule and ``combine``'s central
    rule, D / (2 s), compiled around the job (the same operations, so the same numbers)."""
    base, h = base_step("central", exact_changes(prob, "incremental")), 0.0 if h is None else h
    if backend == policy.NUMBA_PARALLEL:
        return functools.partial(_central_unless_contended, prob.kernel("central", "incremental", True), h, base)
    return functools.partial(_central, prob.kernel("central", "incremental", False), h, base, backend)


def _central_unless_contended(kernel, h, base, prob, out):
    """``_central`` by the parallel ``kernel``, or by the serial one while the cores are
    contended (``policy.contended``; the same bits)."""
    if policy.contended():
        return _central(prob.kernel("central", "incremental", False), h, base, policy.NUMBA, prob, out)
    return _central(kernel, h, base, policy.NUMBA_PARALLEL, prob, out)


def _central(kernel, h, base, backend, prob, out):
    """The central-difference gradient by ``kernel`` (``jobs.central_kernel``) into ``out`` or a
    new array: steps h, or by the default rule from ``base`` where h = 0."""
    net = prob.net
    out = gradient_buffer(net, out)
    if not isfinite(runtime.call(kernel, net.theta, net.layout, prob.XT, prob.YT, h, base, prob.all_entries,
                                 policy.shares(backend), prob.workspace, prob.steps_workspace, out)):
        prob.check_weights()
    return out


def _difference_function(prob, backend, strategy, entries, base):
    """(s, m, multiplier) -> E(theta + s e_q) - E(theta - m s e_q), s about multiplier * the
    base step."""
    net = prob.net

    def difference(s, m, multiplier):
        if backend == policy.PYTHON:
            return python_differences(prob, s, m, entries)
        if backend == policy.NUMPY:
            return numpy_differences(prob, s, m, entries)
        out = np.empty(entries.size)
        kernel = jobs.differences_kernel(prob.formulas, strategy, backend == policy.NUMBA_PARALLEL)
        # the incremental job builds its u-table for the step multiplier * base
        if not isfinite(runtime.call(kernel, net.theta, net.layout, prob.XT, prob.YT, s, m, multiplier * base,
                                     entries, policy.shares(backend), prob.workspace, out)):
            prob.check_weights()
        return out
    return difference


def check_method(method, prob, backend):
    """The method name, refusing complex-step where it cannot work."""
    choice("method", method, METHODS)
    if RULES[method].complex:
        net = prob.net
        bad = [a for a in net.hidden if a in NOT_ANALYTIC]
        if bad:
            raise ValueError(f"method: 'complex-step' needs analytic activations; {bad[0]!r} is not "
                             "(use method='central')")
        for piece in [p for p in net.activations + [prob.loss_name] if isinstance(p, (Activation, Loss))]:
            reason = piece.complex_failure()
            if reason:
                raise ValueError(f"method: 'complex-step' needs {piece.name}'s value to take complex numbers; "
                                 f"it does not ({reason}); use method='central'")
        if backend not in policy.COMPILED:
            raise ValueError(f"method: 'complex-step' runs on the compiled backends only "
                             f"({', '.join(policy.COMPILED)}), not {backend!r}")
    return method


def exact_changes(prob, strategy):
    """Whether ``strategy`` forms every change of the loss without cancellation: the
    incremental one with fastgrad's own activations and losses (``Problem.exact_changes``);
    the default central step depends on it (``fastgrad.rules``)."""
    return strategy == "incremental" and prob.exact_changes


def check_strategy(strategy, backend):
    """The strategy to use: "incremental" by default on numba backends, "full" on the baselines."""
    compiled_backend = backend in policy.COMPILED
    if strategy is None:
        return "incremental" if compiled_backend else "full"
    choice("strategy", strategy, STRATEGIES)
    if strategy == "incremental" and not compiled_backend:
        raise ValueError(f"strategy: 'incremental' runs on the compiled backends only "
                         f"({', '.join(policy.COMPILED)}), not {backend!r}")
    return strategy


def _entries(entries, n_params):
    """Parameter indices as an int64 array, each in [0, n_params)."""
    if entries is None:
        return np.arange(n_params, dtype=np.int64)
    arr = np.asarray(entries)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise ValueError(f"entries: expected a 1-D array of integer indices, got {arr.dtype} shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_params):
        raise ValueError(f"entries: indices must lie in [0, {n_params}), got {arr.min()}..{arr.max()}")
    return arr.astype(np.int64)


def block_gradient(net, X, Y, loss, entries, h, method, strategy):
    """One cluster task: (gradient, steps, error estimate) of ``entries`` by the serial kernel."""
    result = gradient_of(Problem(net, X, Y, loss), h, policy.NUMBA, entries, strategy, method, full_output=True)
    return result.gradient, result.steps, result.error_estimate


def warm_up(client, prob, h, method, strategy):
    """Load (or compile) on every worker the kernel that gradients of ``prob`` run, by a
    gradient of a copy of the net at most two units wide (kernels depend on the activations,
    the loss, the depth and the method, not on the widths)."""
    net = prob.net
    small = MLP([min(width, 2) for width in net.sizes], hidden=net.hidden, output=net.output, seed=0)
    X, Y = np.zeros((1, small.sizes[0])), np.full((1, small.sizes[-1]), 1.0 / small.sizes[-1])
    client.run(block_gradient, small, X, Y, prob.loss_name, np.zeros(1, dtype=np.int64), h, method, strategy)


def _on_cluster(prob, entries, h, method, strategy, client=None, blocks=None, progress=None):
    """(gradient, steps, error estimate or None) of ``entries`` of ``prob`` over the Dask cluster,
    in blocks of about equal estimated cost (``dask_backend.entry_costs``), each a task of
    ``block_gradient``; ``progress(blocks_done, blocks)`` as blocks finish."""
    client = dask_backend.find_client(client)
    n_threads = dask_backend.worker_threads(client)
    net, rule = prob.net, RULES[method]
    per_entry = dask_backend.entry_costs(net.sizes, prob.X.shape[0], "full" if rule.complex else strategy)[entries]
    per_entry *= rule.passes * (dask_backend.COMPLEX_FACTOR if rule.complex else 1.0)
    bounds = dask_backend.block_bounds(per_entry, n_threads, dask_backend.check_blocks(blocks))
    parts = dask_backend.run_blocks(client, block_gradient, (net, prob.X, prob.Y),
                                    [(prob.loss_name, entries[a:b], h, method, strategy)
                                     for a, b in zip(bounds[:-1], bounds[1:])], progress)
    gradient, steps, errors = (np.concatenate(column) if column[0] is not None else None for column in zip(*parts))
    return gradient, steps, errors
