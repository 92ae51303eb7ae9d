"""The compiled jobs of one configuration: names in, specialised kernels out.

A configuration is the net's hidden activations, its output activation and the loss
(``formulas``); each job is specialised to it (``specialise.py``), so that a run compiles
the formulas it uses and nothing else.
"""
import functools

from . import activations, backprop, complex_step, finite_diff, forward, incremental, losses, quotients, training
from .specialise import specialise

DIFFERENCES = {"incremental": incremental.incremental_differences, "full": finite_diff.full_differences}


def formulas(hidden, output, loss):
    """Bindings for hidden activation names (one per hidden layer), an output name and a loss
    name; ``fun`` is the loss at theta, the function of any_function's loops."""
    return _formulas(tuple(hidden), output, loss)


@functools.lru_cache(maxsize=None)
def _formulas(hidden, output, loss):
    module = activations.hidden_formulas(hidden) if hidden else activations.identity
    first_change = incremental.tabled_first_change if hasattr(module, "tilt") else incremental.exact_first_change
    deeper = incremental.through_the_layers_above if len(hidden) > 1 else incremental.no_layers_above
    pieces = (("hidden", module), ("output", activations.formulas_of(output)), ("loss", losses.formulas_of(loss)))
    # fun: the compiled loss, linked (numba cannot paste a function that is called with *args)
    return pieces + (("first_change", first_change), ("deeper", deeper), ("fun", loss_kernel(pieces)))


def exact_changes(hidden, output, loss):
    """Whether no formula module of the configuration says EXACT_CHANGES = False (a custom
    activation or loss, whose changes subtract)."""
    return _exact_changes(tuple(hidden), output, loss)


@functools.lru_cache(maxsize=None)
def _exact_changes(hidden, output, loss):
    return all(getattr(module, "EXACT_CHANGES", True) for name, module in _formulas(hidden, output, loss)
               if name in ("hidden", "output", "loss"))


def loss_kernel(bindings, blocked=False):
    """(theta, layout, XT, YT, cache) -> E; ``blocked``: the products blocked in registers, same
    bits (for problems that ``products.blocked_pays_off``)."""
    return specialise(forward.loss_at, _blocked(bindings, blocked))


def backprop_kernel(bindings, parallel=False, blocked=False):
    """(theta, layout, XT, YT, cache, grad) -> E, grad = dE/dtheta; ``parallel``: each layer's
    gradient rows or columns and deltas over threads; ``blocked``: as for ``loss_kernel``. The
    same bits either way. Blocked kernels need n >= 3 max(layer sizes) (their workspace)."""
    if parallel:
        bindings = bindings + (("UNITS_PER_BLOCK", backprop.PARALLEL_BLOCK),)
    return specialise(backprop.backprop, _blocked(bindings, blocked), parallel)


def _blocked(bindings, blocked):
    return bindings + (("BLOCKED", True),) if blocked else bindings


def differences_kernel(bindings, strategy, parallel):
    """(theta, layout, XT, YT, steps, m, h_table, entries, n_shares, out) -> E."""
    return specialise(DIFFERENCES[strategy], bindings, parallel)


def central_kernel(bindings, strategy, parallel):
    """(theta, layout, XT, YT, h, base, entries, n_shares, work, steps, out) -> E, out = the
    central quotients of the difference job (quotients.py)."""
    return specialise(quotients.central_gradient, bindings + (("differences", _job(bindings, strategy, parallel)),))


def complex_step_kernel(bindings, parallel):
    """(theta, layout, XT, YT, steps, entries, n_shares, out) -> E."""
    return specialise(complex_step.complex_step, bindings, parallel)


def training_kernel(bindings, gradient, strategy, parallel, blocked=False, optimizer=None):
    """(theta, layout, XT, YT, eta, h, base, batches, n_shares, limit, last_good, losses, settings,
    state) -> steps done, with backprop (gradient="analytic"; ``blocked``: as for ``loss_kernel``)
    or central differences by ``strategy``; ``optimizer``: a module of optimizers/ (None: plain
    descent, the template's own)."""
    if optimizer is not None:
        bindings = bindings + (("optimizer", optimizer),)
    if gradient == "analytic":
        return specialise(training.gradient_steps, _blocked(bindings, blocked) + (("ANALYTIC", True),))
    return specialise(training.gradient_steps,
                      bindings + (("ANALYTIC", False), ("differences", _job(bindings, strategy, parallel))))


def _job(bindings, strategy, parallel):
    """The difference job for a kernel that calls one: serial, its template, pasted into that
    kernel (so the job compiles once, in it, not once more on its own to be linked); parallel,
    the compiled parallel job, linked (the caller itself is not compiled for threads)."""
    return differences_kernel(bindings, strategy, True) if parallel else DIFFERENCES[strategy]


def coordinate_kernel(bindings):
    """(theta, layout, XT, YT, eta, h, limit, last_good, losses) -> sweeps done."""
    return specialise(training.coordinate_sweeps, bindings)
