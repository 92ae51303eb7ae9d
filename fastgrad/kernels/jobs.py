"""The compiled jobs of one configuration: names in, specialised kernels out.

A configuration is the net's hidden activations, its output activation and the loss
(``formulas``); each job is specialised to it (``specialise.py``), so that a run compiles
the formulas it uses and nothing else.

``JOBS`` declares every job once: its arguments by name (the parameters of its templates,
checked by the tests), what it returns, its templates and the function that builds its
kernel. Callers, the warm-up (``diagnostics``) and the docs read it.
"""
import functools
from collections import namedtuple

from . import activations, backprop, complex_step, finite_diff, forward, incremental, losses, quotients, training
from .specialise import specialise

DIFFERENCES = {"incremental": incremental.incremental_differences, "full": finite_diff.full_differences}

Job = namedtuple("Job", ["arguments", "returns", "templates", "build"])
Job.__doc__ = """A job: ``arguments``, the names of its kernel's parameters in order; ``returns``,
what the kernel returns and writes; ``templates``, the entry templates it is specialised from;
``build(bindings, *options)``, its kernel for a configuration's ``formulas``."""
JOBS = {}  # name -> Job


def signature(name):
    """The job's call as the docs write it: "(theta, layout, ...) -> returns"."""
    job = JOBS[name]
    return f"({', '.join(job.arguments)}) -> {job.returns}"


def _job(name, templates, arguments, returns):
    """Declare the job ``name`` built by the decorated function (its docstring is prefixed with
    the job's signature)."""
    def declare(build):
        JOBS[name] = Job(tuple(arguments.split(", ")), returns, templates, build)
        build.__doc__ = f"{signature(name)}; {build.__doc__}"
        return build
    return declare


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


@_job("loss", (forward.loss_at,), "theta, layout, XT, YT, cache", "E")
def loss_kernel(bindings, blocked=False):
    """``blocked``: the products blocked in registers, same bits (for problems that
    ``products.blocked_pays_off``)."""
    return specialise(forward.loss_at, _blocked(bindings, blocked))


@_job("backprop", (backprop.backprop,), "theta, layout, XT, YT, cache, grad", "E; grad = dE/dtheta")
def backprop_kernel(bindings, parallel=False, blocked=False):
    """``parallel``: each layer's gradient rows or columns and deltas over threads; ``blocked``:
    as for ``loss_kernel``. The same bits either way. Blocked kernels need n >= 3 max(layer
    sizes) (their workspace)."""
    if parallel:
        bindings = bindings + (("UNITS_PER_BLOCK", backprop.PARALLEL_BLOCK),)
    return specialise(backprop.backprop, _blocked(bindings, blocked), parallel)


def _blocked(bindings, blocked):
    return bindings + (("BLOCKED", True),) if blocked else bindings


@_job("differences", tuple(DIFFERENCES.values()),
      "theta, layout, XT, YT, steps, m, h_table, entries, n_shares, work, out",
      "E; out[k] = E(theta + s_k e_q) - E(theta - m s_k e_q), q = entries[k], s_k = steps[k]")
def differences_kernel(bindings, strategy, parallel):
    """by ``strategy`` ("incremental" or "full", DIFFERENCES), over threads if ``parallel``."""
    return specialise(DIFFERENCES[strategy], bindings, parallel)


@_job("central", (quotients.central_gradient,),
      "theta, layout, XT, YT, h, base, entries, n_shares, work, steps, out",
      "E; out = the central quotients of the difference job (quotients.py)")
def central_kernel(bindings, strategy, parallel):
    """the difference job by ``strategy``, over threads if ``parallel``."""
    return specialise(quotients.central_gradient, bindings + (("differences", _difference_job(bindings, strategy,
                                                                                                parallel)),))


@_job("complex_step", (complex_step.complex_step,), "theta, layout, XT, YT, steps, entries, n_shares, out",
      "E; out[k] = Im E(theta + i s_k e_q) / s_k")
def complex_step_kernel(bindings, parallel):
    """over threads if ``parallel``."""
    return specialise(complex_step.complex_step, bindings, parallel)


@_job("training", (training.gradient_steps,),
      "theta, layout, XT, YT, eta, h, base, batches, n_shares, limit, last_good, losses, settings, state",
      "steps done")
def training_kernel(bindings, gradient, strategy, parallel, blocked=False, optimizer=None):
    """gradient steps with backprop (gradient="analytic"; ``blocked``: as for ``loss_kernel``) or
    central differences by ``strategy``, over threads if ``parallel``; ``optimizer``: a module of
    optimizers/ (None: plain descent, the template's own)."""
    if optimizer is not None:
        bindings = bindings + (("optimizer", optimizer),)
    if gradient == "analytic":
        return specialise(training.gradient_steps, _blocked(bindings, blocked) + (("ANALYTIC", True),))
    return specialise(training.gradient_steps,
                      bindings + (("ANALYTIC", False), ("differences", _difference_job(bindings, strategy, parallel))))


def _difference_job(bindings, strategy, parallel):
    """The difference job for a kernel that calls one: serial, its template, pasted into that
    kernel (so the job compiles once, in it, not once more on its own to be linked); parallel,
    the compiled parallel job, linked (the caller itself is not compiled for threads)."""
    return differences_kernel(bindings, strategy, True) if parallel else DIFFERENCES[strategy]


@_job("coordinate", (training.coordinate_sweeps,), "theta, layout, XT, YT, eta, h, limit, last_good, losses",
      "sweeps done")
def coordinate_kernel(bindings):
    """the textbook's coordinate sweeps."""
    return specialise(training.coordinate_sweeps, bindings)
