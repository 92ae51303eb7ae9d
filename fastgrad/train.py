"""Optimisation loops, run as compiled chunks of steps between progress reports.

update="gradient":   the optimizer's step from g(theta) (plain descent: theta <- theta - eta g),
                     g the whole gradient (analytic or numerical) on the full batch or on a
                     seeded minibatch; optionally with validation rows and early stopping.
update="coordinate": the textbook notebook's loop: one step is a sweep over the entries
                     in order (W1 row-major, then W2, ...), each updated at once by its own
                     central difference taken with the entries before it already moved.
                     It is not a gradient step, and it is inherently sequential.
"""
from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from typing import TYPE_CHECKING, Callable

import numpy as np
from numpy.typing import ArrayLike

from . import losses as losses_module
from . import runtime
from . import dask_backend, policy, rules
from .gradients import numerical
from .gradients.numerical import check_strategy
from .kernels import jobs
from .model import MLP
from .optimizers import Optimizer, optimizer as optimizer_of
from .problem import problem
from .stopping import HeldOut
from .validation import check_seed, choice, difference_step, positive_int, positive_number, seeded_rng

if TYPE_CHECKING:
    import distributed

GRADIENTS = ("numerical", "analytic")
UPDATES = ("gradient", "coordinate")
CHUNK_SECONDS = 0.2  # target wall time of one compiled chunk
DIVERGENCE_RATIO = 1e12  # a loss this many times the initial one counts as diverged
HELD_OUT_POINTS = 100  # held-out losses taken per run without patience (each ends a chunk)


@dataclass
class History:
    """What a run did: the loss at recorded steps, steps done, seconds, and why it stopped."""
    steps: list = field(default_factory=list)    # step numbers (0-based) at which the loss was recorded
    losses: list = field(default_factory=list)   # loss before that step's update
    steps_done: int = 0
    last_loss: float = float("nan")             # loss before the last finite step's update
    seconds: float = 0.0                        # the steps themselves
    load_seconds: float = 0.0                   # compiling or loading the kernels beforehand
    stopped: str = "completed"  # "completed", "stopped early", "diverged", "interrupted" or "cluster failed"
    error: str = ""             # what stopped a run that did not complete, in words
    held_out_steps: list = field(default_factory=list)   # steps at which the validation rows' loss was taken
    held_out_losses: list = field(default_factory=list)  # (at the weights before that step's update), if given
    best_step: int = -1                         # least validation loss: the step whose weights the net keeps
    best_loss: float = float("nan")             # (with patience) and that loss; -1, nan without validation

    def __repr__(self):
        last = self.losses[-1] if self.losses else float("nan")
        return (f"History({self.stopped}, {self.steps_done} steps in {self.seconds:.3g} s, "
                f"{len(self.losses)} losses recorded, last {last:.6g})")


class DivergenceError(ValueError):
    """Training met a non-finite loss; ``history`` holds the run, the net its last finite weights."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


class ClusterFailure(dask_backend.ClusterError):
    """The Dask cluster failed a gradient for good (after its retries); ``history`` holds the
    steps done, the net the weights after them."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


class _ClusterStop(Exception):
    """Raised by the cluster's runner: the steps of a chunk done before the cluster failed."""

    def __init__(self, losses, error):
        super().__init__(str(error))
        self.losses = losses


def train(net: MLP, X: ArrayLike, Y: ArrayLike, loss: str | None = None, gradient: str = "numerical",
          backend: str = policy.DEFAULT, steps: int = 1000, eta: float = 0.1, h: float | None = None,
          batch_size: int | None = None, update: str = "gradient", seed: int | None = None,
          record_every: int | None = None, progress: Callable[[int, float], None] | None = None,
          strategy: str | None = None, client: distributed.Client | None = None,
          optimizer: str | Optimizer = "sgd", validation: tuple[ArrayLike, ArrayLike] | None = None,
          patience: int | None = None) -> History:
    """Train ``net`` in place and return a History.

    Parameters
    ----------
    gradient : {"numerical", "analytic"}
        Central differences or backpropagation.
    h : float or None
        The central differences' step; None: the library's rule (``fastgrad.rules``),
        h_q = eps^(1/2) max(1, |theta_q|) for the incremental strategy with fastgrad's own
        formulas, else eps^(1/3) max(1, |theta_q|) (the coordinate update: 1e-5, the notebook's).
    backend : {"numba-parallel", "numba", "dask"}
        Compiled backend of the numerical gradient ("numba-parallel" runs as "numba" for
        the analytic gradient and for update="coordinate"). "dask" takes each step's
        gradient over a Dask cluster (``client``, default Dask's current one), for nets
        whose gradient takes seconds; the weights equal "numba"'s bit for bit.
    steps : int
        Gradient steps, or sweeps for update="coordinate".
    eta : float
        Step size.
    batch_size : int or None
        Minibatch size for update="gradient": each epoch visits the samples in an order
        shuffled by ``numpy.random.default_rng(seed)``. None is the full batch.
    record_every : int or None
        Keep the loss every this many steps (default: about 1000 points per run).
    optimizer : {"sgd", "momentum", "adam"} or fastgrad.optimizers.Optimizer
        The update from g (``fastgrad.optimizers``; a name takes the default parameters);
        update="gradient" only. Its state starts at zero on every call.
    validation : (X, Y) or None
        Held-out rows: their loss is taken every ``record_every`` steps with ``patience``, else
        about HELD_OUT_POINTS times a run (``History.held_out_steps``, ``held_out_losses``),
        and at the end; the step of least loss is ``History.best_step``.
    patience : int or None
        With ``validation``: stop once the validation loss has not improved for this many
        steps (checked every ``record_every`` steps) and give the net the best weights back
        (``stopped="stopped early"``; a run that completes gets them back too).
    progress : callable(steps_done, loss) or None
        Called once with (0, initial loss) before the kernels are compiled or loaded, then
        between chunks.
    strategy : {"incremental", "full"} or None
        How the numerical gradient re-evaluates the loss (see ``numerical_gradient``);
        update="coordinate" always re-evaluates in full, as the notebook does.

    Raises
    ------
    DivergenceError
        When a loss is not finite or exceeds DIVERGENCE_RATIO times the initial loss (finite
        differences of a huge loss round to zero, so such a run would stall rather than
        overflow), or a gradient is not finite; ``net`` keeps the last weights whose loss was
        within bounds. Ctrl-C ends the run between chunks with ``stopped="interrupted"``
        (with backend="dask", once the gradient under way is done).
    """
    prob = problem(net, X, Y, loss)
    choice("gradient", gradient, GRADIENTS)
    choice("backend", backend, policy.TRAINING_BACKENDS)
    choice("update", update, UPDATES)
    if backend == "dask" and (gradient, update) != ("numerical", "gradient"):
        raise ValueError("backend: 'dask' takes numerical gradient steps only (gradient='numerical', "
                         "update='gradient'); the others run on one machine")
    if client is not None and backend != "dask":
        raise ValueError(f"client: only for backend='dask', not {backend!r}")
    strategy = check_strategy(strategy, backend)
    steps = positive_int("steps", steps)
    eta = positive_number("eta", eta)
    # h = 0: the rule's steps, base max(1, |theta_q|)
    h = (1e-5 if update == "coordinate" else 0.0) if h is None else difference_step("h", h)
    base = rules.base_step("central", numerical.exact_changes(prob, strategy))
    optimizer = optimizer_of(optimizer)
    if optimizer.module is not None and update == "coordinate":
        raise ValueError(f"optimizer: the coordinate update is the notebook's own; {optimizer.name} takes "
                         "update='gradient'")
    if patience is not None and validation is None:
        raise ValueError("patience: early stopping needs validation rows (validation=(X, Y))")
    seed = check_seed(seed)
    record_every = positive_int("record_every", record_every or max(1, steps // 1000))
    every = record_every if patience is not None else max(record_every, steps // HELD_OUT_POINTS)
    held_out = None if validation is None else HeldOut(net, *validation, prob.loss_name, patience, every)
    if batch_size is not None:
        batch_size = positive_int("batch_size", batch_size)
        if batch_size > prob.X.shape[0]:
            raise ValueError(f"batch_size: expected at most {prob.X.shape[0]} (the number of samples), "
                             f"got {batch_size}")
        if update == "coordinate":
            raise ValueError("batch_size: the coordinate update runs on the full batch only")
    if update == "coordinate" and gradient == "analytic":
        raise ValueError("gradient: the coordinate update is defined with central differences; "
                         "use gradient='numerical'")
    initial = losses_module.value(prob.loss_name, net.output_preactivation(prob.X), prob.Y, net.output)
    if progress is not None:
        progress(0, initial)  # before anything compiles: the caller knows the run has begun
    if backend == "dask":
        run = _cluster_runner(prob, strategy, eta, h, _batch_stream(prob.X.shape[0], batch_size, seed), initial,
                              client, optimizer)
    else:
        run = _chunk_runner(prob, gradient, backend, strategy, update, eta, (h, base), batch_size, seed, initial,
                            optimizer)
    return _run_in_chunks(prob, run, steps, record_every, progress, held_out)


def _chunk_runner(prob, gradient, backend, strategy, update, eta, steps, batch_size, seed, initial, optimizer):
    """A function (count) -> per-step losses of the next ``count`` steps, updating theta."""
    net = prob.net
    args = (net.theta, net.layout, prob.XT, prob.YT)
    limit = DIVERGENCE_RATIO * initial if initial > 0 else np.inf
    last_good = net.theta.copy()
    h, base = steps  # h = 0: the rule's steps from base
    if update == "coordinate":
        kernel = jobs.coordinate_kernel(prob.formulas)

        def run(count):
            losses = np.empty(count)
            done = runtime.call(kernel, *args, eta, h, limit, last_good, losses)
            return losses[:done]
        return run
    batch = batch_size or prob.X.shape[0]
    engine = policy.training_engine(net.n_params, batch, gradient, backend, update, strategy)
    blocked = gradient == "analytic" and policy.blocked_products(batch, net.n_params, net.sizes)
    batches = _batch_stream(prob.X.shape[0], batch_size, seed)
    settings, state = optimizer.settings(), optimizer.state(net.n_params)  # the state carries over chunks

    def run(count):
        losses = np.empty(count)
        now = policy.running(engine.backend)  # serial while the cores are contended: the same bits
        kernel = jobs.training_kernel(prob.formulas, gradient, strategy, now == policy.NUMBA_PARALLEL, blocked,
                                      optimizer.module)
        done = runtime.call(kernel, *args, eta, h, base, batches(count), policy.shares(now), limit, last_good, losses,
                            settings, state)
        return losses[:done]
    return run


def _cluster_runner(prob, strategy, eta, h, batches, initial, client, optimizer):
    """``_chunk_runner``'s gradient steps in Python, each gradient over the Dask cluster: the
    arithmetic of kernels/training.py (g = D / 2h, the optimizer's update, the same checks),
    so the same weights bit for bit."""
    client = dask_backend.find_client(client)  # now: a missing cluster is an error before the first step
    net = prob.net
    limit = DIVERGENCE_RATIO * initial if initial > 0 else np.inf
    last_good = net.theta.copy()
    settings, state = optimizer.settings(), optimizer.state(net.n_params)
    h = None if h == 0.0 else h

    def run(count):
        if count == 0:  # the workers load or compile their kernel before the clock starts
            numerical.warm_up(client, prob, h, "central", strategy)
            return np.empty(0)
        rows = batches(count)
        losses = np.empty(count)
        theta = net.theta
        for s in range(count):
            loss = np.nan  # for weights an update overflowed, as the compiled loop's loss would be
            if np.isfinite(theta).all():
                batch = prob if rows.size == 0 else problem(net, prob.X[rows[s]], prob.Y[rows[s]], prob.loss_name)
                loss = batch.loss()
            try:
                grad = numerical.gradient_of(batch, h, policy.DASK, strategy=strategy, client=client) \
                    if loss <= limit else None
            except dask_backend.ClusterError as exc:  # theta holds the weights after s steps
                raise _ClusterStop(losses[:s], exc) from None
            if grad is None or not np.isfinite(grad).all():
                theta[:] = last_good
                return losses[:s]
            losses[s] = loss
            last_good[:] = theta
            if optimizer.module is None:
                theta -= eta * grad
            else:  # the kernels' own update, called from Python
                optimizer.module.update(theta, grad, eta, settings, state)
        return losses
    return run


def _batch_stream(n, batch_size, seed):
    """(count) -> (count, batch_size) row indices, epoch after epoch of seeded shuffles."""
    if batch_size is None:
        empty = np.zeros((0, 0), dtype=np.int64)
        return lambda count: empty
    rng = seeded_rng(seed)
    pending = np.zeros(0, dtype=np.int64)

    def batches(count):
        nonlocal pending
        need = count * batch_size
        parts = [pending]
        have = pending.size
        while have < need:
            epoch = rng.permutation(n)
            epoch = epoch[:n - n % batch_size] if n % batch_size else epoch  # whole batches only
            parts.append(epoch)
            have += epoch.size
        flat = np.concatenate(parts)
        pending = flat[need:]
        return flat[:need].reshape(count, batch_size)
    return batches


def _run_in_chunks(prob, run, steps, record_every, progress, held_out=None):
    """Call ``run`` on growing chunks (aiming at CHUNK_SECONDS each) until ``steps`` are done
    or ``held_out`` (a stopping.HeldOut) stops the run."""
    history = History()
    start = time.perf_counter()
    try:
        try:
            run(0)  # compile, or load from the cache, before the clock starts
        finally:
            history.load_seconds = time.perf_counter() - start
        start = time.perf_counter()
        with held_signals() as deliver:
            _run_chunks(run, steps, record_every, progress, history, deliver, held_out)
    except KeyboardInterrupt:  # a stop signal delivered between chunks or while compiling, or Ctrl-C elsewhere
        history.stopped = "interrupted"
    history.seconds = time.perf_counter() - start
    if held_out is not None and history.stopped in ("completed", "stopped early"):
        if history.stopped == "completed":
            held_out.at(history.steps_done, history, recorded=False)  # the final weights
        held_out.restore()
    if history.stopped == "cluster failed":
        raise ClusterFailure(f"{history.error}; the net keeps the weights after {history.steps_done} steps", history)
    if history.stopped == "diverged":
        raise DivergenceError(
            f"training diverged: the loss at step {history.steps_done} is not finite or above "
            f"{DIVERGENCE_RATIO:g} times the initial loss "
            f"(last finite loss {history.last_loss:.6g} at step {history.steps_done - 1}); "
            "try a smaller eta. "
            "The net keeps the weights of the last finite step.", history)
    return history


def _run_chunks(run, steps, record_every, progress, history, deliver, held_out):
    """The chunks themselves, recorded in ``history``; the stop signals held during a chunk are
    delivered (``deliver()``) once its steps are recorded. With ``held_out``, each chunk ends
    at a multiple of ``held_out.every``, where the held-out loss is taken."""
    chunk = 1
    while history.steps_done < steps:
        count = min(chunk, steps - history.steps_done)
        if held_out is not None:
            count = min(count, held_out.every - history.steps_done % held_out.every)
            if history.steps_done % held_out.every == 0 and held_out.at(history.steps_done, history):
                history.stopped = "stopped early"
                break
        t0 = time.perf_counter()
        try:
            losses = run(count)
        except _ClusterStop as stop:
            losses, history.stopped, history.error = stop.losses, "cluster failed", str(stop)
        elapsed = time.perf_counter() - t0
        first = history.steps_done
        for k in range(-first % record_every, losses.size, record_every):
            history.steps.append(first + k)
            history.losses.append(float(losses[k]))
        history.steps_done += losses.size
        if losses.size:
            history.last_loss = float(losses[-1])
        if losses.size < count:
            if history.stopped != "cluster failed":
                history.stopped = "diverged"
            break
        deliver()
        if progress is not None:
            progress(history.steps_done, float(losses[-1]))
        chunk = _next_chunk(count, elapsed)


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextmanager
def held_signals():
    """Yield ``deliver()``: during the block, SIGINT, SIGTERM and SIGHUP are noted instead of
    handled wherever a Python function handles them (Ctrl-C's default handler raises
    KeyboardInterrupt), and ``deliver()`` hands the noted ones to those functions, as does
    leaving the block. Between a kernel's return and its steps' bookkeeping a stop cannot
    land, so theta is always the weights after steps_done steps. Only in the main thread
    (the only one that handles signals); elsewhere the block changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    held, handlers = [], {}
    for signum in STOP_SIGNALS:
        if callable(handler := signal.getsignal(signum)):
            handlers[signum] = handler
            signal.signal(signum, lambda signum, frame: held.append(signum))

    def deliver():
        while held:
            signum = held.pop(0)
            handlers[signum](signum, None)
    try:
        yield deliver
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    deliver()


def _next_chunk(chunk, elapsed):
    """Grow or shrink the chunk so that one takes about CHUNK_SECONDS."""
    if elapsed <= 0:
        return chunk * 4
    return max(1, min(chunk * 4, int(chunk * CHUNK_SECONDS / elapsed)))
