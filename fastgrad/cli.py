"""The ``fastgrad`` command line: one thin command per job, calling the public API.

Errors in the input end the program with one line on stderr and exit code 2; Ctrl-C
exits 130 (during training after saving the last weights when --save was given). A job
whose kernels are not yet compiled says so on stderr while numba compiles them.
"""
import _thread
import gc
import math
import sys
import threading
import time
import warnings
from contextlib import contextmanager

import click
from click.core import ParameterSource

from . import dask_backend, datasets, derivatives, diagnostics, policy, runtime
from .check import gradcheck
from .rules import METHODS
from .io import check_outputs, figure_format, load_weights, save_weights, write_json, write_text
from .model import INITS, MLP
from .problem import loss as loss_value
from .problem import problem
from .train import GRADIENTS, UPDATES, DivergenceError, train

BUILTIN_DATA = ("seed", "seed-analytic", "sine", "spirals")
DEFAULT_SEED = 0
OPTION_NAMES = {"batch_size": "--batch-size", "eta": "--eta", "steps": "--steps", "h": "--h", "seed": "--seed",
                "threads": "--threads", "test_fraction": "--test-fraction", "n": "--samples", "hidden": "--activation",
                "output": "--output", "loss": "--loss", "init": "--init", "rtol": "--rtol", "atol": "--atol",
                "top": "--top", "methods": "--methods", "points": "--points", "h_min": "--h-min",
                "h_max": "--h-max", "fast": "--fast", "method": "--method", "target": "--target",
                "sizes": "--sizes", "gradient": "--gradient", "update": "--update", "backend": "--backend",
                "strategy": "--strategy", "scheduler": "--scheduler", "check": "--check"}


def _in_option_words(message):
    """An API message "batch_size: ..." as the command line says it: "--batch-size: ..."."""
    name, colon, rest = message.partition(":")
    return OPTION_NAMES[name] + colon + rest if colon and name in OPTION_NAMES else message


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    click.echo(f"Warning: {message}", err=True)


def _interrupt_main_soon():
    """Ctrl-C again in the main thread, 10 ms from now, from another thread: raised at once it
    would land in the hook or finalizer running now and be dropped again."""
    timer = threading.Timer(0.01, _thread.interrupt_main)
    timer.daemon = True
    timer.start()


def _quiet_compiler_finalizers(unraisable, report=sys.__unraisablehook__, interrupt=_interrupt_main_soon):
    """sys.unraisablehook: Ctrl-C while numba compiles can leave llvmlite objects whose
    finalizers then fail ("Exception ignored in ... __del__", with a traceback); the interrupt
    itself is reported in one line, so say nothing of those. A Ctrl-C whose KeyboardInterrupt
    landed inside a finalizer, where Python can only drop it, is raised again in the main
    thread once the finalizer is done (else the compile would go on as if Ctrl-C had not been
    pressed; should it land in a finalizer again, this hook sends it again). Anything else is
    reported."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        interrupt()
        return
    where = getattr(unraisable.object, "__module__", None) or ""
    if where.startswith("llvmlite"):
        return
    report(unraisable)


class _Group(click.Group):
    """A click group whose errors are one line and exit 2, with no traceback; warnings are
    one line too."""

    def main(self, args=None, prog_name=None, **extra):
        extra.pop("standalone_mode", None)
        warnings.showwarning = _one_line_warning
        sys.unraisablehook = _quiet_compiler_finalizers
        try:
            code = super().main(args=args, prog_name=prog_name, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            code = 2
        except (ValueError, runtime.KernelError, dask_backend.ClusterError) as exc:
            click.echo(f"Error: {_in_option_words(str(exc))}", err=True)
            code = 2
        except (KeyboardInterrupt, click.Abort):
            click.echo("Interrupted.", err=True)
            code = 130
        sys.exit(code if isinstance(code, int) else 0)


def _sizes(ctx, param, value):
    if value is None:
        return None
    try:
        return [int(v) for v in value.replace(" ", "").split(",")]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers such as 1,10,1, got {value!r}") from None


def _positive_number(ctx, param, value):
    """A finite float > 0, from the text as typed (so that 1e-400 is said to underflow)."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise click.BadParameter(f"expected a number, got {value!r}") from None
    if number == 0.0 and any(c in "123456789" for c in value.lower().split("e")[0]):
        raise click.BadParameter(f"{value} underflows to 0 in float64 (the smallest is about 5e-324)")
    if not math.isfinite(number) or number <= 0.0:
        raise click.BadParameter(f"expected a finite number > 0, got {value}")
    return number


def positive_number_option(*names, **kwargs):
    """A click option for a number > 0, checked by ``_positive_number``."""
    return click.option(*names, type=str, callback=_positive_number, metavar="FLOAT", **kwargs)


def model_options(f):
    """Options shared by the commands that build data and a net."""
    options = [
        click.option("--data", default="seed", show_default=True,
                     help=f"Built-in dataset ({', '.join(BUILTIN_DATA)}) or a CSV file with a header row."),
        click.option("--target", multiple=True, help="CSV target column, by name or index (default: last)."),
        click.option("--classify", is_flag=True, help="CSV: one-hot encode the target column's labels."),
        click.option("--test-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.0,
                     help="CSV: share of rows held out for testing."),
        click.option("--standardize", is_flag=True,
                     help="Scale inputs (and regression targets) to mean 0, std 1 by the training rows; the "
                          "scaling is saved with the weights, reused by --resume, and undone in the figures."),
        click.option("--samples", type=click.IntRange(min=1), default=None,
                     help="Number of samples for sine (25) and spirals (300)."),
        click.option("--sizes", callback=_sizes, help="Layer sizes, e.g. 1,10,1 (default: inputs,10,outputs)."),
        click.option("--activation", type=click.Choice(["tanh", "sigmoid", "relu", "identity"]),
                     default=None, help="Hidden activation [tanh]."),
        click.option("--output", type=click.Choice(["identity", "sigmoid", "softmax"]), default=None,
                     help="Output activation [softmax for classification, else identity]."),
        click.option("--loss", type=click.Choice(["squared", "mse", "cross-entropy"]), default=None,
                     help="Loss [cross-entropy after softmax; mse for the seed example; else squared]."),
        click.option("--init", type=click.Choice(INITS), default=None, help="Weight initialisation [normal]."),
        click.option("--seed", type=click.IntRange(min=0), default=None,
                     help=f"Seed for data, weights and minibatches [{DEFAULT_SEED}]; printed and saved."),
        click.option("--resume", type=click.Path(dir_okay=False), default=None,
                     help="Start from weights saved with --save."),
        click.option("--backend", type=click.Choice(policy.MACHINE_TRAINING_BACKENDS), default=policy.DEFAULT,
                     show_default=True, help="Compiled backend of the numerical gradient."),
        click.option("--threads", type=click.IntRange(min=1), default=None, help="Threads for numba-parallel."),
        positive_number_option("--h", "h", default=None,
                               help="Finite-difference step [train: 1e-5; gradcheck: the method's rule]."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def cluster_options(f):
    """--scheduler and --dask-workers: numerical gradients over a Dask cluster."""
    options = [
        click.option("--scheduler", metavar="ADDRESS", default=None,
                     help="Take numerical gradients on the Dask cluster whose scheduler is at ADDRESS "
                          "(e.g. tcp://host:8786); needs fastgrad[distributed]."),
        click.option("--dask-workers", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Take numerical gradients on a local Dask cluster of N single-threaded worker "
                          "processes, started and stopped by this command; needs fastgrad[distributed]."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _cluster_option(o):
    """The cluster option given ("--scheduler" or "--dask-workers"), or None; refuses both at once."""
    given = [name for name, key in (("--scheduler", "scheduler"), ("--dask-workers", "dask_workers"))
             if o[key] is not None]
    if len(given) == 2:
        raise ValueError("--scheduler, --dask-workers: give one of them (a running cluster, or a local one)")
    return given[0] if given else None


def _refuse_local_engine_options(option):
    """With a cluster, --backend and --threads would choose nothing: refused when typed."""
    context = click.get_current_context()
    for name, key in (("--backend", "backend"), ("--threads", "threads")):
        if context.get_parameter_source(key) is ParameterSource.COMMANDLINE:
            raise ValueError(f"{name}: the numerical gradient runs on the Dask workers with {option}; "
                             f"leave {name} out")


@contextmanager
def _cluster(o, option):
    """The Dask client of the cluster ``option`` names (None without one); a local cluster
    started here is stopped at the end."""
    if option is None:
        yield None
        return
    dask_backend.distributed_module(asked_by=option)
    client = dask_backend.connect(o["scheduler"]) if o["scheduler"] else dask_backend.local_cluster(o["dask_workers"])
    try:
        yield client
    finally:
        dask_backend.close(client)


def _cluster_engine(o, client):
    """The cluster in words, for a header."""
    threads = sum(client.nthreads().values())
    where = f"at {o['scheduler']}" if o["scheduler"] else "a local cluster"
    return f"dask, {threads} worker thread{'s' * (threads != 1)}, {where}"


def _refuse_options_the_data_ignores(o):
    if o["samples"] is not None and o["data"] not in ("sine", "spirals"):
        raise ValueError(f"--samples: only sine and spirals take a sample count, not --data {o['data']}")
    if o["data"] in BUILTIN_DATA:
        for option, given in (("--target", o["target"]), ("--classify", o["classify"]),
                              ("--test-fraction", o["test_fraction"])):
            if given:
                raise ValueError(f"{option}: only for CSV files, not --data {o['data']}")


def _setup(o):
    """Data, net, loss and training defaults from the shared options; sets o["seed"] to the
    seed used."""
    _refuse_options_the_data_ignores(o)
    if o["threads"] is not None:
        runtime.set_num_threads(o["threads"])
    custom_net = any(o[k] is not None for k in ("sizes", "activation", "output", "init", "seed"))
    o["seed"] = DEFAULT_SEED if o["seed"] is None else o["seed"]
    example = None
    if o["data"] in ("seed", "seed-analytic"):
        example = (datasets.seed_numerical_example() if o["data"] == "seed"
                   else datasets.seed_analytic_example())
        data = example.data
    elif o["data"] == "sine":
        data = datasets.sine(n=o["samples"] or 25, seed=o["seed"])
    elif o["data"] == "spirals":
        data = datasets.spirals(n=o["samples"] or 300, seed=o["seed"])
    else:
        data = datasets.load_csv(o["data"], target=list(o["target"]) or -1, classify=o["classify"],
                                 test_fraction=o["test_fraction"], seed=o["seed"])
    d, p = data.X.shape[1], data.Y.shape[1]
    output = o["output"] or ("softmax" if data.kind == "classification" else "identity")
    o["resumed_after"] = 0
    if o["resume"]:
        net, meta = load_weights(o["resume"])
        o["resumed_after"] = int(meta.get("steps_done", 0))
        if o["sizes"] and o["sizes"] != net.sizes:
            raise ValueError(f"--resume: {o['resume']} holds a {net.sizes} net, not the {o['sizes']} of --sizes")
    elif example is not None and not custom_net:
        net = example.net
    else:
        sizes = o["sizes"] or [d, 10, p]
        net = MLP(sizes, hidden=o["activation"] or "tanh", output=output, init=o["init"] or "normal",
                  seed=o["seed"])
    if net.sizes[0] != d or net.sizes[-1] != p:
        source = f"--resume {o['resume']}" if o["resume"] else "--sizes"
        raise ValueError(f"{source}: the net {net.sizes} does not fit the data, which has {d} input(s) "
                         f"and {p} output(s)")
    saved = meta.get("scaling") if o["resume"] else None
    if saved is not None or o["standardize"]:  # weights trained on scaled data keep seeing it scaled
        try:
            scaling = None if saved is None else datasets.Scaling.from_json(saved, d, p)
        except ValueError as exc:
            raise ValueError(f"--resume {o['resume']}: {exc}") from None
        data = datasets.standardize(data, scaling)
    elif warning := datasets.scale_warning(data):
        warnings.warn(warning)
    loss = o["loss"] or (example.loss if example and net.output != "softmax" else None)
    return data, net, problem(net, data.X, data.Y, loss).loss_name, example


def _describe(o, data, net, loss):
    acts = "-".join(net.hidden + [net.output])
    return (f"data {o['data']}: {data.X.shape[0]} training samples; net {net.sizes} ({acts}), "
            f"{net.n_params} parameters; loss {loss}; seed {o['seed']}")


def _inputs(o):
    """The input files named by the options, as check_outputs takes them."""
    return [("--data", None if o["data"] in BUILTIN_DATA else o["data"]), ("--resume", o["resume"])]


def _check_figures(*figures):
    """Each (option, path) given names a figure format we write."""
    for option, path in figures:
        if path is not None:
            figure_format(option, path)


def _settings(o):
    """The options as a JSON output records them, with the versions and threads of the run
    (the runtime facts cost a look at the kernel cache: only for a JSON output)."""
    settings = {k.replace("_", "-"): list(v) if isinstance(v, tuple) else v for k, v in o.items()}
    settings["runtime"] = diagnostics.runtime_info(start_threads=False)
    return settings


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fastgrad")
def cli():
    """Gradients of multilayer perceptrons: backprop and fast finite differences."""


@cli.command("train")
@model_options
@click.option("--gradient", type=click.Choice(GRADIENTS), default="numerical", show_default=True,
              help="numerical: central differences (step --h); analytic: backpropagation.")
@click.option("--update", type=click.Choice(UPDATES), default="gradient", show_default=True,
              help="gradient: theta -= eta g; coordinate: the notebook's entry-by-entry sweep.")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="Steps (sweeps) [seed: 10000, seed-analytic: 100000, else 1000].")
@positive_number_option("--eta", default=None, help="Step size [seed: 0.01, seed-analytic: 0.1, else 0.1].")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Minibatch size (default: full batch).")
@click.option("--plot", type=click.Path(dir_okay=False), help="Save the fit as a figure (.png, .pdf or .svg).")
@click.option("--loss-plot", type=click.Path(dir_okay=False), help="Save the loss curve as a figure.")
@click.option("--save", type=click.Path(dir_okay=False),
              help="Save the final weights (.npz); may be the --resume file.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False),
              help="Save the settings and metrics as JSON ('-': standard output).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@cluster_options
def train_command(**o):
    """Train a net; with no options, the textbook's numerical example (10,000 steps)."""
    option = _cluster_option(o)
    if option is not None:
        _refuse_local_engine_options(option)
        if (o["gradient"], o["update"]) != ("numerical", "gradient"):
            raise ValueError(f"{option}: the cluster takes numerical gradient steps only (--gradient numerical, "
                             "--update gradient)")
    data, net, loss, example = _setup(o)
    _check_figures(("--plot", o["plot"]), ("--loss-plot", o["loss_plot"]))
    check_outputs([("--save", o["save"]), ("--json", o["json_path"]), ("--plot", o["plot"]),
                   ("--loss-plot", o["loss_plot"])], _inputs(o), replaces={("--save", "--resume")})
    with _cluster(o, option) as client:
        return _train(o, data, net, loss, example, client)


def _train(o, data, net, loss, example, client):
    """train_command's run, on ``client``'s cluster when one is given."""
    say = _say(o)
    steps = o["steps"] or (example.steps if example else 1000)
    eta = o["eta"] or (example.eta if example else 0.1)
    if client is not None:
        engine = _cluster_engine(o, client)
    else:
        engine = policy.training_engine(net.n_params, o["batch_size"] or data.X.shape[0], o["gradient"],
                                        o["backend"], o["update"]).describe()
    header = (_describe(o, data, net, loss) + "\n"
              + f"gradient {o['gradient']} ({engine}), update {o['update']}, eta {eta:g}, {steps} steps"
              + (f", batch {o['batch_size']}" if o["batch_size"] else "")
              + (f", resuming {o['resume']} after {o['resumed_after']} steps" if o["resume"] else ""))
    status, code = "completed", 0
    with _progress(steps, o["quiet"], header, say) as report, CompileNotice() as notice:
        report.notice = notice
        try:
            history = train(net, data.X, data.Y, loss=loss, gradient=o["gradient"],
                            backend="dask" if client is not None else o["backend"], client=client,
                            steps=steps, eta=eta, h=o["h"] or 1e-5, batch_size=o["batch_size"], update=o["update"],
                            seed=o["seed"], progress=report)
            status = history.stopped
        except DivergenceError as exc:
            history, status, code = exc.history, "diverged", 2
            click.echo(f"Error: {exc}", err=True)
    if status == "interrupted":
        code = 130
        if history.steps_done == 0:
            click.echo("Interrupted before the first step; no file written.", err=True)
            return code
        click.echo(f"Interrupted after {history.steps_done} steps.", err=True)
    metrics = _metrics(o, data, net, loss, steps, eta, history, status)
    if data.scaling is None and history.losses and metrics["training_loss"] > 0.99 * history.losses[0] \
            and (warning := datasets.scale_warning(data)):
        warnings.warn(f"training stalled: the loss fell by {1 - metrics['training_loss'] / history.losses[0]:.1%} "
                      f"in {history.steps_done} steps; {warning}")
    say(f"training loss = {metrics['training_loss']:.6g}" + (" (standardized targets)" if data.scaling is not None
                                                              and data.kind == "regression" else ""))
    if "testing_loss" in metrics:
        say(f"testing loss = {metrics['testing_loss']:.6g}")
    if history.steps_done == 0:
        click.echo(f"no step done ({history.load_seconds:.2g} s compiling or loading the kernels); "
                   "no file written", err=True)
        return code
    per_step = history.seconds / history.steps_done
    before = ("to compile the kernels (first run; later runs load them)" if notice.watch.compiled
              else "for the workers to load or compile their kernels" if client is not None
              else "to load the compiled kernels")
    say(f"time {history.seconds:.3g} s for {history.steps_done} steps ({per_step * 1e6:.3g} µs per step; "
        f"{history.load_seconds:.2g} s before that {before})")
    _write_outputs(o, data, net, history, metrics, say)
    return code


def _say(o):
    """click.echo, to stderr when the JSON output goes to standard output."""
    return lambda text: click.echo(text, err=o["json_path"] == "-")


def _metrics(o, data, net, loss, steps, eta, history, status):
    """The run's results; step numbers count from the start of a resumed run's first run. The
    losses are numpy's: the compiled loss would cost a cold run a compile for two numbers."""
    before = o["resumed_after"]
    metrics = {"sizes": net.sizes, "activations": net.activations, "loss": loss, "eta": eta,
               "steps_requested": steps, "steps_done": history.steps_done, "steps_before": before,
               "status": status, "seconds": history.seconds, "load_seconds": history.load_seconds,
               "training_loss": loss_value(net, data.X, data.Y, loss, "numpy"),
               "history": {"step": [before + s for s in history.steps], "loss": history.losses}}
    if data.X_test is not None:
        metrics["testing_loss"] = loss_value(net, data.X_test, data.Y_test, loss, "numpy")
    return metrics


def _write_outputs(o, data, net, history, metrics, say):
    title = f"{o['data']}: {net.sizes}, {o['gradient']} gradient, {history.steps_done} steps"
    if o["save"]:
        scaling = {} if data.scaling is None else {"scaling": data.scaling.to_json()}
        save_weights(o["save"], net, status=metrics["status"], steps_done=metrics["steps_before"] + history.steps_done,
                     seed=o["seed"], **scaling)
        say(f"weights saved to {o['save']}")
    if o["json_path"]:
        write_json(o["json_path"], {"settings": _settings(o), **metrics})
    if o["plot"] or o["loss_plot"]:
        from . import plots  # matplotlib takes a second to import: only when a figure is asked for
        if o["plot"]:
            plots.fit_plot(o["plot"], net, data, title)
        if o["loss_plot"] and history.losses:
            plots.loss_plot(o["loss_plot"], history, title)


class _progress:
    """Prints ``header`` once training has begun (its options all accepted, nothing compiled
    yet), then, from the first chunk on, a progress bar on stderr with the current loss (no
    bar when quiet)."""

    def __init__(self, steps, quiet, header, say):
        self.steps, self.quiet, self.header, self.say = steps, quiet, header, say
        self.bar, self.done, self.loss, self.notice = None, 0, None, None

    def __enter__(self):
        return self

    def _start_bar(self):
        self.bar = click.progressbar(length=self.steps, file=sys.stderr, label="training",
                                     item_show_func=lambda _: None if self.loss is None else f"loss {self.loss:.4g}")
        self.bar.__enter__()

    def __call__(self, done, loss):
        if self.header is not None:
            self.say(self.header)
            sys.stdout.flush()
            self.header = None
        if done == 0:
            return
        if self.notice is not None:
            self.notice.report()
        if self.bar is None and not self.quiet:
            self._start_bar()
        if self.bar is not None:
            self.loss = loss
            self.bar.update(done - self.done, done)
        self.done = done

    def __exit__(self, *exc):
        if self.header is not None and exc[0] is None:  # finished before the first report
            self.say(self.header)
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False


@cli.command("gradcheck")
@model_options
@positive_number_option("--rtol", default="1e-5", show_default=True,
                        help="Relative tolerance: an entry passes when |a - g| <= atol + rtol |g|.")
@positive_number_option("--atol", default="1e-8", show_default=True, help="Absolute tolerance (see --rtol).")
@click.option("--method", type=click.Choice(METHODS), default="central", show_default=True,
              help="Difference method of the numerical gradient.")
@click.option("--fast", is_flag=True, help="Check one random direction first; all entries only if it fails.")
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True, help="Worst entries listed.")
@click.option("--plot", type=click.Path(dir_okay=False),
              help="Save a heat map of the relative errors (.png, .pdf or .svg).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False),
              help="Save the settings and the report as JSON ('-': standard output).")
@cluster_options
def gradcheck_command(**o):
    """Compare the analytic and numerical gradients; exit 1 when they disagree."""
    option = _cluster_option(o)
    if option is not None:
        _refuse_local_engine_options(option)
    data, net, loss, _ = _setup(o)
    _check_figures(("--plot", o["plot"]))
    check_outputs([("--plot", o["plot"]), ("--json", o["json_path"])], _inputs(o))
    say = _say(o)
    with _cluster(o, option) as client, CompileNotice(), _BlockBar(client is not None) as bar:
        on_cluster = dict(backend="dask", client=client, progress=bar) if client is not None \
            else dict(backend=o["backend"])
        report = gradcheck(net, data.X, data.Y, loss=loss, h=o["h"], rtol=o["rtol"], atol=o["atol"],
                           method=o["method"], fast=o["fast"], top=o["top"], seed=o["seed"], **on_cluster)
    say(_describe(o, data, net, loss))
    say(str(report))
    if o["json_path"]:
        write_json(o["json_path"], {"settings": _settings(o), **report.to_json()})
    if o["plot"] and report.relative_errors is not None:
        from . import plots
        plots.error_heatmap(o["plot"], net, report.relative_errors,
                            f"gradcheck {o['data']} {net.sizes}: relative error per weight")
        say(f"heat map saved to {o['plot']}")
    return 0 if report.passed else 1


class _BlockBar:
    """A progress bar of the cluster's gradient blocks on stderr (on a terminal; called as
    ``progress(done, blocks)``), or None when ``wanted`` is false."""

    def __init__(self, wanted):
        self.wanted = wanted and sys.stderr.isatty()
        self.bar, self.done = None, 0

    def __enter__(self):
        return self if self.wanted else None

    def __call__(self, done, blocks):
        if self.bar is None:
            self.bar = click.progressbar(length=blocks, file=sys.stderr, label="gradient blocks")
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False


def _thread_counts(ctx, param, value):
    if value is None:
        return None
    try:
        counts = sorted({int(v) for v in value.split(",")})
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers such as 1,2, got {value!r}") from None
    if counts[0] < 1:
        raise click.BadParameter(f"thread counts must be >= 1, got {value!r}")
    return counts


@cli.command("bench")
@click.option("--sizes", "specs", multiple=True,
              help="Network and data size as WIDTHS:SAMPLES, e.g. 8-64-4:1000 (repeatable).")
@click.option("--backends", default=None,
              help="Comma-separated: python, numpy, numba-full, numba-parallel-full, numba, numba-parallel, "
                   "analytic-numpy, analytic-numba, numba-bound, analytic-numba-bound (a Problem's methods), "
                   "dask (with --dask-workers or --scheduler) [all].")
@click.option("--threads", "thread_counts", callback=_thread_counts, default=None,
              help="Thread counts for numba-parallel, e.g. 1,2 [1 and all].")
@click.option("--quick", is_flag=True, help="A small grid that runs in seconds.")
@click.option("--out", "prefix", default="fastgrad-bench", show_default=True,
              help="Output prefix: PREFIX.json, PREFIX.md, PREFIX-scaling.png, PREFIX-threads.png.")
@click.option("--compare", "old", type=click.Path(dir_okay=False), help="An earlier PREFIX.json to compare with.")
@click.option("--default-allocator", is_flag=True,
              help="Leave glibc's malloc thresholds alone (numpy's loop then page-faults on temporaries).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@cluster_options
def bench_command(specs, backends, thread_counts, quick, prefix, old, default_allocator, quiet, **cluster):
    """Time every backend side by side; write JSON, Markdown and plots."""
    from . import benchmark
    option = _cluster_option(cluster)
    specs = list(specs) or list(benchmark.QUICK_GRID if quick else benchmark.DEFAULT_GRID)
    for spec in specs:
        benchmark.parse_size(spec)
    names = benchmark.ALL_BACKENDS + benchmark.CLUSTER_BACKENDS
    chosen = tuple(b.strip() for b in backends.split(",")) if backends else \
        benchmark.ALL_BACKENDS + (benchmark.CLUSTER_BACKENDS if option else ())
    for b in chosen:
        if b not in names:
            raise ValueError(f"--backends: unknown backend {b!r}; expected some of {', '.join(names)}")
    if "dask" in chosen and option is None:
        raise ValueError("--backends: dask needs a cluster: --dask-workers N (a local one) or --scheduler ADDRESS")
    if option is not None and "dask" not in chosen:
        raise ValueError(f"{option}: --backends leaves out dask, the only backend that uses the cluster")
    outputs = [(f"--out ({suffix})", prefix + suffix) for suffix in (".json", ".md", "-scaling.png", "-threads.png")]
    check_outputs(outputs, [("--compare", old)])  # now, not after the run; earlier results stay until replaced
    earlier = benchmark.read_comparison(old) if old else None
    counts = thread_counts or sorted({1, runtime.max_threads()})
    if counts[-1] > runtime.max_threads():
        raise ValueError(f"--threads: at most {runtime.max_threads()} threads here")
    with _cluster(cluster, option) as client:
        return _bench(specs, chosen, counts, quick, prefix, old, earlier, default_allocator, quiet, client)


def _bench(specs, chosen, counts, quick, prefix, old, earlier, default_allocator, quiet, client):
    """bench_command's run, timing dask on ``client``'s cluster when one is given."""
    from . import benchmark, plots
    if not default_allocator:
        benchmark.tune_allocator()
    total = len(specs) * sum(len(counts) if "parallel" in b else 1 for b in chosen)
    bar = None if quiet else click.progressbar(length=total, file=sys.stderr, label="benchmarking")
    if bar is not None:
        bar.__enter__()
    try:
        results, partial = benchmark.run_grid(specs, chosen, counts, progress=bar and (lambda r: bar.update(1)),
                                              min_seconds=0.05 if quick else 0.5, client=client)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if not results:
        click.echo("Interrupted before anything was measured; no file written.", err=True)
        return 130
    env = benchmark.environment()
    table = benchmark.grid_markdown(results)
    exponents = benchmark.growth_exponents(results)
    write_json(prefix + ".json", benchmark.results_to_json(results, partial))
    heading = (f"fastgrad bench{' (partial: interrupted)' if partial else ''} — {time.strftime('%Y-%m-%d')}, "
               f"{env['cpu_count']} CPUs, numba {env['numba']} ({env['threading_layer']} layer), "
               f"allocator {env['allocator']}\n\n")
    growth = "".join(f"- {k}: time ~ P^{v:.2f}"
                     + (" (two sizes only: a line through two points, not a fit)"
                        if benchmark.size_count(results, k) == 2 else "") + "\n" for k, v in exponents.items())
    write_text(prefix + ".md", heading + table + ("\nFitted growth exponents:\n\n" + growth if growth else ""))
    if results:
        plots.scaling_plot(prefix + "-scaling.png", results, exponents, "time per gradient vs parameters")
        plots.threads_plot(prefix + "-threads.png", results, "numba-parallel: speed-up vs threads")
    click.echo(heading + table)
    if growth:
        click.echo("Fitted growth exponents:\n" + growth)
    if earlier is not None:
        click.echo("\n".join(["Compared with " + old + ":"] + benchmark.compare(results, earlier)))
    if partial:
        click.echo("Interrupted: the files hold what was measured, marked partial.", err=True)
        return 130
    return 0


@cli.command("hsweep")
@model_options
@click.option("--methods", default="forward,central,central4,richardson,complex-step", show_default=True,
              help="Comma-separated difference methods.")
@positive_number_option("--h-min", default="1e-14", show_default=True, help="Smallest step of the sweep.")
@positive_number_option("--h-max", default="1e-1", show_default=True, help="Largest step of the sweep.")
@click.option("--points", type=click.IntRange(min=2), default=27, show_default=True,
              help="Number of log-spaced steps.")
@click.option("--strategy", type=click.Choice(["full", "incremental"]), default="full", show_default=True,
              help="full: subtract two losses (the classic round-off rise); incremental: direct differences.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Save the error-vs-h figure (.png, .pdf or .svg).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False),
              help="Save the settings and numbers as JSON ('-': standard output).")
def hsweep_command(**o):
    """Error of each difference method against the analytic gradient over a range of h."""
    from .sweep import hsweep
    if o["h"] is not None:
        raise ValueError("--h: hsweep takes its steps from --h-min to --h-max; leave --h out")
    methods = [m.strip() for m in o["methods"].split(",") if m.strip()]
    data, net, loss, _ = _setup(o)
    _check_figures(("--plot", o["plot"]))
    check_outputs([("--plot", o["plot"]), ("--json", o["json_path"])], _inputs(o))
    say = _say(o)
    with CompileNotice():
        sweep = hsweep(net, data.X, data.Y, loss=loss, methods=methods, h_min=o["h_min"], h_max=o["h_max"],
                       points=o["points"], backend=o["backend"], strategy=o["strategy"])
    say(_describe(o, data, net, loss))
    say(f"{'method':>13}  {'best h':>9}  {'error there':>11}  {'truncation slope':>16}  expected")
    for method, (h, error) in sweep.best.items():
        slope = sweep.slopes.get(method)
        say(f"{method:>13}  {h:>9.2e}  {error:>11.2e}  {'-' if slope is None else f'{slope:.2f}':>16}  "
            f"{sweep.to_json()['expected_orders'][method]}")
    if o["json_path"]:
        write_json(o["json_path"], {"settings": _settings(o), **sweep.to_json()})
    if o["plot"]:
        from . import plots
        plots.hsweep_plot(o["plot"], sweep, f"h-sweep: {o['data']} {net.sizes}, {o['strategy']} re-evaluation")
    return 0


def load_function(option, spec):
    """The function named MODULE:FUNCTION (a module on the path or in the working directory,
    or a .py file), or a ValueError about ``option``."""
    import importlib
    import importlib.util
    import os
    where, colon, name = spec.rpartition(":")
    if not (colon and where and name):
        raise ValueError(f"{option}: expected MODULE:FUNCTION (a module or a .py file, then a function's name), "
                         f"got {spec!r}")
    try:
        if where.endswith(".py"):
            found = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(where))[0], where)
            module = importlib.util.module_from_spec(found)
            found.loader.exec_module(module)
        else:
            if os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(where)
    except (ImportError, OSError) as exc:
        raise ValueError(f"{option}: cannot import {where} ({exc})") from None
    except Exception as exc:  # the module itself failed
        raise ValueError(f"{option}: importing {where} raised {type(exc).__name__}: {exc}") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise ValueError(f"{option}: {where} has no function {name!r}")
    return function


def _point(text):
    """--x0: comma-separated numbers, or a .npy file of a 1-D array."""
    import numpy as np
    if text.endswith(".npy"):
        try:
            x0 = np.load(text, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ValueError(f"--x0: cannot read {text} as a .npy array ({exc})") from None
    else:
        try:
            x0 = np.array([float(v) for v in text.replace(" ", "").split(",")])
        except ValueError:
            raise ValueError(f"--x0: expected comma-separated numbers such as 1,2,3 or a .npy file, got {text!r}") from None
    if x0.ndim != 1 or x0.dtype.kind not in "iuf" or not np.isfinite(x0).all():
        raise ValueError(f"--x0: expected a 1-D array of finite numbers, got {x0.dtype} shape {x0.shape}")
    return x0.astype(float)


@cli.command("derivative")
@click.argument("function", metavar="MODULE:FUNCTION")
@click.option("--x0", "x0_text", required=True, metavar="X",
              help="The point: comma-separated numbers (1,2,3) or a .npy file of a 1-D array.")
@click.option("--method", type=click.Choice(list(derivatives.METHODS)), default="3-point", show_default=True,
              help="Difference rule: scipy's names (or fastgrad's forward, central, complex-step for them), "
                   "or fastgrad's backward, central4, richardson.")
@click.option("--backend", type=click.Choice(policy.MACHINE_DERIVATIVE_BACKENDS), default=None,
              help="Loop: python, or compiled for an @njit function [numba-parallel for those, else python].")
@click.option("--check", "gradient_spec", metavar="MODULE:GRADIENT",
              help="Compare this gradient (or Jacobian) function at x0 with the differences; exit 1 if they disagree.")
@positive_number_option("--rtol", default="1e-5", show_default=True,
                        help="--check: an entry passes when |a - g| <= atol + rtol |g|.")
@positive_number_option("--atol", default="1e-8", show_default=True, help="--check: absolute tolerance.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False),
              help="Save the settings and results as JSON ('-': standard output).")
@cluster_options
def derivative_command(function, x0_text, method, backend, gradient_spec, rtol, atol, json_path, **cluster):
    """The gradient or Jacobian of any function f(x) at x0 (scipy's approx_derivative)."""
    import numpy as np
    option = _cluster_option(cluster)
    if option is not None:
        _refuse_local_engine_options(option)
    check_outputs([("--json", json_path)])
    fun = load_function("FUNCTION", function)
    gradient = load_function("--check", gradient_spec) if gradient_spec else None
    x0 = _point(x0_text)
    say = _say({"json_path": json_path})
    with _cluster(cluster, option) as client:
        on_cluster = dict(backend="dask", client=client) if client is not None else dict(backend=backend)
        J, info = derivatives.approx_derivative(fun, x0, method=method, full_output=True, **on_cluster)
    say(f"{function} at x0 of {x0.size} coordinate(s): {'gradient' if J.ndim == 1 else 'Jacobian'} by "
        f"{method}, {info['nfev']} evaluations, backend {info['backend']}")
    with np.printoptions(precision=17, threshold=np.inf, linewidth=100):
        say(str(J))
    result = {"settings": {"function": function, "x0": x0.tolist(), "method": method, "backend": info["backend"]},
              "derivative": J.tolist(), "nfev": info["nfev"]}
    code = 0
    if gradient is not None:
        report = derivatives.compare(gradient(x0), J, rtol, atol)
        say(report.text(gradient_spec))
        result["check"] = report.to_json()
        code = 0 if report.passed else 1
    if json_path:
        write_json(json_path, result)
    return code


@cli.command("info")
@click.option("--warm-up", is_flag=True,
              help="Compile (or load) every kernel of the default configuration now; a table of times.")
@click.option("--processes", type=click.IntRange(min=1), default=None,
              help="--warm-up: processes that compile side by side (default: one per CPU, at most 8; "
                   "one where every job is cached).")
def info_command(warm_up, processes):
    """Versions, CPUs, numba threads and threading layer, kernel cache."""
    if processes is not None and not warm_up:
        raise ValueError("--processes: only with --warm-up")
    cached, total, _ = diagnostics.cache_status()
    for key, value in diagnostics.runtime_info().items():
        click.echo(f"{key:>16}: {value}")
    click.echo(f"{'cache':>16}: {'warm' if cached == total else 'cold (first use compiles)'}")
    if warm_up:
        click.echo(f"\nwarm-up of every job for the default configuration "
                   f"({', '.join(diagnostics.DEFAULT_CONFIGURATION)}):")
        click.echo(f"{'job':<33} {'seconds':>8}  {'how':<9} kernel")
        if processes is None:  # where every job is cached, loading them here beats starting processes
            processes = 1 if cached == total else diagnostics.default_processes()
        start = time.perf_counter()
        rows = diagnostics.warm_up(processes=processes)
        wall = time.perf_counter() - start
        for label, name, seconds, how in rows:
            click.echo(f"{label:<33} {seconds:>8.2f}  {how:<9} {name}")
        click.echo(f"{'total':<33} {sum(r[2] for r in rows):>8.2f}")
        click.echo(f"{'wall':<33} {wall:>8.2f}  ({processes} process{'es' if processes > 1 else ''})")
    return 0


class CompileNotice:
    """While numba compiles (not while it loads from the cache): "compiling kernels for this
    configuration (first run only)…" on stderr, with the seconds so far on a terminal, then
    "compiled in X s" once compiling stops (``report``, or the end of the block)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.watch = runtime.CompileWatch(on_first=self._begin)
        self.tty = self.stream.isatty()
        self._reported = 0  # top-level compiles reported so far
        self._stop = threading.Event()
        self._ticker = None
        self._start = None

    def _begin(self):
        self._start = time.perf_counter()
        self.stream.write("compiling kernels for this configuration (first run only)…")
        self.stream.write("" if self.tty else "\n")
        self.stream.flush()
        if self.tty:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def _tick(self):
        while not self._stop.wait(1.0):
            if self.watch.busy:
                self.stream.write(f"\rcompiling kernels for this configuration (first run only)… "
                                  f"{time.perf_counter() - self._start:.0f} s")
                self.stream.flush()

    def report(self):
        """Say how long compiling took, if it has happened since the last report."""
        if self.watch.failed:  # the caller says why (an error, Ctrl-C): end the notice's line
            self._stop.set()
            if self.tty:
                self.stream.write("\n")
                self.stream.flush()
            self.watch.failed = False
        elif len(self.watch.compiled) > self._reported and not self.watch.busy:
            self._reported = len(self.watch.compiled)
            self._stop.set()
            if self._ticker is not None:
                self._ticker.join()
            self.stream.write(("\r\033[K" if self.tty else "") + f"compiled in {self.watch.seconds:.1f} s\n")
            self.stream.flush()

    def __enter__(self):
        self.watch.__enter__()
        return self

    def __exit__(self, *exc):
        self.watch.__exit__(*exc)
        if exc[0] is None:
            self.report()
        else:
            self._stop.set()
            if self.watch.compiled or self.watch.busy:
                self.stream.write("\n")
        return False


def main():
    """The console script. Its objects are frozen out of the garbage collector on the way out:
    Python's shutdown would otherwise run full collections over the 100,000 objects numba's
    registries hold once a kernel has loaded, 0.13 s of a 0.73 s warm ``fastgrad train``."""
    try:
        cli()
    finally:
        gc.freeze()

