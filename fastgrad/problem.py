"""A net, its data and a loss, validated together before any compiled code runs: ``Problem``.

A Problem validates once and owns what the kernels read (X and Y transposed, C-contiguous
float64) and the workspaces they write, so its methods go straight to the compiled kernel.
It is bound to ``net.theta``: it reads the weights at each call, so updates to the net
(``net.theta = ...``, in-place edits, training) are seen; changing X or Y needs a new Problem.
Its workspaces are its own, so one Problem serves one thread at a time (give each thread its
own Problem).

This is the bottom of the Python side above the kernels: it imports nothing that computes a
gradient. ``fastgrad.Problem`` (``bound.py``) adds the gradient methods on top.
"""
from __future__ import annotations

import math
from functools import lru_cache
from operator import attrgetter

import numpy as np
from numpy.typing import ArrayLike

from . import losses, policy, runtime
from .kernels import checks, jobs
from .kernels.incremental import workspace_size
from .kernels.layers import cache_size
from .model import MLP
from .validation import FLOAT64, check_allocation, check_finite, choice, float_matrix


class _computed_once:
    """An attribute computed on first use and then stored on the instance (functools'
    cached_property takes a lock on every first use before Python 3.12, a cost that a free
    function, which builds a Problem per call, pays on each of them)."""

    def __init__(self, compute):
        self.compute, self.name, self.__doc__ = compute, compute.__name__, compute.__doc__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


class Problem:
    """``Problem(net, X, Y, loss=None)``: the loss E(theta) of ``net`` on (X, Y), validated, with
    the workspaces and plans of the jobs that compute on it, and ``loss()``. ``loss=None`` picks
    ``default_loss(net)``. ``net``, ``X``, ``Y`` and ``loss_name`` are read-only: what the rest
    is derived from."""

    def __init__(self, net: MLP, X: ArrayLike, Y: ArrayLike, loss: str | None = None):
        if not isinstance(net, MLP):
            raise ValueError(f"net: expected a fastgrad.MLP, got {type(net).__name__}")
        loss = default_loss(net) if loss is None else losses.check_pairing(loss, net.output)
        X = float_matrix("X", X, net.sizes[0])
        Y = float_matrix("Y", Y, net.sizes[-1], X.shape[0])
        if not runtime.call(checks.all_finite, X, Y, net.theta):
            for name, values in (("X", X), ("Y", Y), ("theta", net.theta)):
                check_finite(name, values)  # names the first non-finite entry
        n, P = X.shape[0], net.n_params
        if n * P > SMALL_WORK:  # below, the workspaces are far under UNCHECKED_BYTES: no sums to take
            _check_workspaces(net.sizes, n)
        # plain attributes, set once (cheaper than a frozen dataclass's object.__setattr__)
        self._net, self._X, self._Y, self._loss_name = net, X, Y, loss  # read through the properties below
        # X and Y transposed, (d, n) and (p, n), C-contiguous: the layout every kernel reads (a one-column
        # array's transpose already is: a view)
        self.XT = X.T if X.shape[1] == 1 else np.ascontiguousarray(X.T)
        self.YT = Y.T if Y.shape[1] == 1 else np.ascontiguousarray(Y.T)
        self.configuration = (tuple(net.hidden), net.output, loss)  # what the formulas depend on
        self.blocked = policy.blocked_products(n, P, net.sizes)  # the same bits either way
        self.kind = self.configuration + (n, P, self.blocked)  # what a plan depends on besides a call's
        # options (the sizes decide whether threads and blocks pay off)
        self.all_entries = _every_entry(P)  # 0 .. P-1, the entries of a whole numerical gradient (one array
        # for all Problems of P parameters: the kernels only read it)

    net = property(attrgetter("_net"), doc="The net; each call reads its weights, ``net.theta``.")
    X = property(attrgetter("_X"), doc="The inputs, (n, d) float64, C-contiguous.")
    Y = property(attrgetter("_Y"), doc="The targets, (n, p) float64, C-contiguous.")
    loss_name = property(attrgetter("_loss_name"), doc="The loss: a name or a ``fastgrad.Loss``.")

    def __repr__(self):
        return f"Problem(net={self._net!r}, X={self._X!r}, Y={self._Y!r}, loss_name={self._loss_name!r})"

    @_computed_once
    def plans(self):
        """The plans this problem has used, by options (a repeated call hashes its options only)."""
        return {}

    @_computed_once
    def formulas(self):
        """The kernels' bindings for this net's activations and this loss."""
        return jobs.formulas(*self.configuration)

    @_computed_once
    def exact_changes(self):
        """Whether the incremental strategy forms every change of this loss without cancellation:
        fastgrad's own activations and losses do; a custom one's formulas say EXACT_CHANGES = False."""
        return jobs.exact_changes(*self.configuration)

    def plan(self, options):
        """The plan for a call with ``options`` (a tuple) on a problem of this kind, or None: not
        made yet, or an option that cannot be a key (unhashable: the checks will name it). Call
        it as plan(problem, out)."""
        try:
            found = self.plans.get(options)
            if found is None:
                found = PLANS.get((self.kind, options))
                if found is not None:
                    self.plans[options] = found
            return found
        except TypeError:
            return None

    def remember(self, options, plan):
        """Keep ``plan`` for calls with ``options`` on problems of this kind; returns it."""
        if len(PLANS) >= MAX_PLANS:
            PLANS.clear()
        PLANS[self.kind, options] = self.plans[options] = plan
        return plan

    def kernel(self, job, *options):
        """``jobs.<job>_kernel(formulas, *options)``, remembered for every Problem of this configuration."""
        key = (self.configuration, job) + options
        found = KERNELS.get(key)
        if found is None:
            found = KERNELS[key] = getattr(jobs, job + "_kernel")(self.formulas, *options)
        return found

    @_computed_once
    def cache(self):
        """The forward pass's workspace (see kernels/layers.py)."""
        return np.empty(cache_size(self.net.layout, self.X.shape[0]))

    @_computed_once
    def workspace(self):
        """The difference jobs' workspace (the incremental job's forward cache and scratch), reused
        by every call."""
        return np.empty(workspace_size(self.net.layout, self.X.shape[0]))

    @_computed_once
    def steps_workspace(self):
        """P floats for the steps of a numerical gradient."""
        return np.empty(self.net.n_params)

    def loss(self) -> float:
        """E(theta) by the compiled forward pass (equations in ``fastgrad.losses``)."""
        net = self.net
        value = runtime.call(self.kernel("loss", self.blocked), net.theta, net.layout, self.XT, self.YT, self.cache)
        if not math.isfinite(value):
            self.check_weights()
        return value

    def check_weights(self):
        """A ValueError naming the first non-finite weight, if any: the weights may have been
        changed after this Problem was built (called where a kernel returned a non-finite loss)."""
        check_finite("theta", self.net.theta)


# (Problem.kind, a call's options) -> plan: calls already checked, for every Problem. A plan takes
# the problem as an argument and holds none: shared, it would keep that problem and its arrays alive.
PLANS = {}
MAX_PLANS = 256  # kinds times options; past it the plans start again (a sweep over many sizes)
KERNELS = {}  # (Problem.configuration, job, options) -> the compiled job: a few per configuration
UNSIZED = np.empty(0)  # a workspace too short for any job: the job allocates its own (never written)


UNCHECKED_BYTES = 1 << 28  # workspaces below this are never checked against the free memory
# units, width and the inputs summed are each at most P, so the floats are at most n P (11 + 10 threads),
# threads being at most the number numba started with (fixed for the process):
SMALL_WORK = UNCHECKED_BYTES // (8 * (11 + 10 * runtime.max_threads()))  # n P below which they fit


def _check_workspaces(sizes, n):
    """Refuse (a ValueError naming X) a problem whose workspaces would not fit in the free memory:
    the forward cache, n (2 units + 3 width), twice (a gradient's and the incremental job's), the
    u-table, n (sum of inputs), and each thread's scratch, 4 n width (kernels/layers.py and
    incremental.py give the exact sizes)."""
    units, width = sum(sizes[1:]), max(sizes)
    floats = n * (2 * (2 * units + 3 * width) + sum(sizes[:-1]) + runtime.max_threads() * (4 * width + 6))
    if 8 * floats > UNCHECKED_BYTES:
        check_allocation("X", f"the workspaces of a {list(sizes)} net on {n} samples", 8 * floats)


@lru_cache(maxsize=64)
def _every_entry(P):
    return np.arange(P, dtype=np.int64)


def default_loss(net):
    """The loss a net's output calls for: cross-entropy after softmax, otherwise squared."""
    return "cross-entropy" if net.output == "softmax" else "squared"


def loss(net: MLP, X: ArrayLike, Y: ArrayLike, loss: str | None = None, backend: str = policy.NUMBA) -> float:
    """E(theta) for the named loss (equations in ``fastgrad.losses``); None picks ``default_loss``.

    backend "numba": the compiled forward pass and loss (``Problem.loss``: the kernel that the
    compiled backprop links, so after an analytic gradient it compiles nothing); "numpy":
    numpy's forward pass, nothing to compile. They agree to rounding (about 1e-16 relative; the
    compiled sum over samples is compensated)."""
    prob = problem(net, X, Y, loss)
    if choice("backend", backend, policy.LOSS_BACKENDS) == policy.NUMBA:
        return prob.loss()
    return _numpy_loss(net, prob.X, prob.Y, prob.loss_name)


NUMPY_LOSS_BYTES = 1 << 26  # numpy's loss holds at most about this many bytes of one layer's outputs


def _numpy_loss(net, X, Y, loss):
    """E by numpy's forward pass, over blocks of rows where one layer's outputs for all of them
    would exceed NUMPY_LOSS_BYTES: E = sum_blocks E_block n_block / n."""
    n, rows = X.shape[0], max(1, NUMPY_LOSS_BYTES // (8 * max(net.sizes)))
    if n <= rows:
        return losses.value(loss, net.output_preactivation(X), Y, net.output)
    total = sum(losses.value(loss, net.output_preactivation(X[a:a + rows]), Y[a:a + rows], net.output)
                * min(rows, n - a) for a in range(0, n, rows))
    return total / n


def problem(net, X, Y, loss):
    """Check shapes, finiteness and the loss/output pairing; return a Problem."""
    return Problem(net, X, Y, loss)


class OneCallProblem(Problem):
    """``OneCallProblem(net, X, Y, loss)``: a Problem for a free function's single call. It leaves
    the difference jobs' workspaces to the jobs, which allocate their own in compiled code (a
    workspace is worth keeping only for the next call, and allocating it in Python costs more
    than in compiled code), as class attributes, so that building one costs
    no more than a Problem; and it keeps no plans of its own."""
    workspace = UNSIZED
    steps_workspace = UNSIZED

    def plan(self, options):
        """``Problem.plan``, looked up among every Problem's plans only (this one serves one call)."""
        try:
            return PLANS.get((self.kind, options))
        except TypeError:
            return None


def gradient_buffer(net, out):
    """``out`` checked as a float64 array of ``net``'s P entries to write a gradient into, or a new one."""
    P = net.n_params
    if out is None:
        return np.empty(P)
    flags = out.flags if isinstance(out, np.ndarray) else None
    if not (flags is not None and (out.dtype is FLOAT64 or out.dtype == FLOAT64) and out.shape == (P,) and flags.c_contiguous
            and flags.writeable):
        raise ValueError(f"out: expected a writable contiguous float64 array of shape ({P},), got "
                         f"{getattr(out, 'dtype', type(out).__name__)} {getattr(out, 'shape', '')}")
    return out
