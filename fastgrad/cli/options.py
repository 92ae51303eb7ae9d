"""Options shared by the commands, built once, and the parameters that name files.

A file parameter declares its role: an input, or an output (a figure, standard output
allowed, may replace a given input). The boundary (``app``) checks every command's outputs
against its inputs and each other from these declarations, before the command runs.
"""
import importlib.util
import math
import os
import sys

import click

from .. import policy, registry
from ..model import INITS
from ..runs import BUILTIN_DATA, DEFAULT_SEED


class FileParameter:
    """A click parameter that names files.

    Parameters
    ----------
    role : {"input", "output"}
    label : str or None
        How errors name it (default: the option's first name).
    files : callable(label, value) -> list of (label, path), or None
        The files a value names (default: the value itself).
    figure : bool
        An output figure: its extension must name a format we write.
    stdout : bool
        An output that may be standard output ("-", or a path naming this process's stdout).
    replaces : tuple of str
        Input options whose file this output may replace (--save over --resume).
    """

    def __init__(self, *decls, role, label=None, files=None, figure=False, stdout=False, replaces=(), **attrs):
        super().__init__(*decls, **attrs)
        self.role, self.figure, self.stdout, self.replaces = role, figure, stdout, tuple(replaces)
        self.label = label or self.opts[0]
        self._files = files or (lambda label, value: [(label, value)])

    def files(self, value):
        """The (label, path) pairs of the files ``value`` names."""
        return self._files(self.label, value)


class FileOption(FileParameter, click.Option):
    """An option naming files (see FileParameter)."""


class FileArgument(FileParameter, click.Argument):
    """An argument naming files (see FileParameter)."""


def input_option(*decls, files=None, **attrs):
    """A click option naming an input file."""
    attrs.setdefault("type", click.Path(dir_okay=False))
    return click.option(*decls, cls=FileOption, role="input", files=files, **attrs)


def output_option(*decls, figure=False, stdout=False, replaces=(), files=None, **attrs):
    """A click option naming an output file (see FileParameter)."""
    attrs.setdefault("type", click.Path(dir_okay=False))
    return click.option(*decls, cls=FileOption, role="output", figure=figure, stdout=stdout, replaces=replaces,
                        files=files, **attrs)


def json_option(what):
    """--json: the settings and ``what`` as JSON, to a file or standard output."""
    return output_option("--json", "json_path", stdout=True,
                         help=f"Save the settings and {what} as JSON ('-': standard output).")


def figure_option(*decls, **attrs):
    """An option naming an output figure (.png, .pdf or .svg)."""
    return output_option(*decls, figure=True, **attrs)


def module_file(spec):
    """The source file of MODULE in MODULE:FUNCTION (a .py file, or a module on the path or in
    the working directory), or None when it cannot be found without running it."""
    where = spec.rpartition(":")[0]
    if where.endswith(".py"):
        return where
    working_directory_on_path()
    try:
        found = importlib.util.find_spec(where) if where else None
    except (ImportError, ValueError):
        return None
    return found.origin if found is not None and found.has_location else None


def working_directory_on_path():
    """Let modules in the working directory be imported by name, as ``python -m`` does."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())


def module_files(label, spec):
    """The files a MODULE:FUNCTION names: its module's source file, where one is found."""
    path = module_file(spec)
    return [] if path is None else [(label, path)]


def _data_files(label, value):
    return [] if value in BUILTIN_DATA else [(label, value)]


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


def _apply(options, f):
    for option in reversed(options):
        f = option(f)
    return f


def model_options(f):
    """Options shared by the commands that build data and a net (``runs.setup``'s settings,
    the local engine and the step h)."""
    return _apply([
        input_option("--data", default="seed", show_default=True, type=str, files=_data_files,
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
        click.option("--activation", type=click.Choice(registry.hidden_choices()), default=None,
                     help="Hidden activation [tanh]."),
        click.option("--output", type=click.Choice(registry.output_choices()), default=None,
                     help="Output activation [softmax for classification, else identity]."),
        click.option("--loss", type=click.Choice(registry.loss_choices()), default=None,
                     help="Loss [cross-entropy after softmax; mse for the seed example; else squared]."),
        click.option("--init", type=click.Choice(INITS), default=None, help="Weight initialisation [scaled; the seed examples: normal]."),
        click.option("--seed", type=click.IntRange(min=0), default=None,
                     help=f"Seed for data, weights and minibatches [{DEFAULT_SEED}]; printed and saved."),
        input_option("--resume", default=None, help="Start from weights saved with --save."),
        click.option("--backend", type=click.Choice(policy.MACHINE_TRAINING_BACKENDS), default=policy.DEFAULT,
                     show_default=True, help="Compiled backend of the numerical gradient."),
        click.option("--threads", type=click.IntRange(min=1), default=None, help=f"Threads for {policy.NUMBA_PARALLEL}."),
        positive_number_option("--h", "h", default=None,
                               help="Finite-difference step [the method's rule; the seed examples' training: 1e-5]."),
    ], f)


def cluster_options(f):
    """--scheduler and --dask-workers: numerical gradients over a Dask cluster."""
    return _apply([
        click.option("--scheduler", metavar="ADDRESS", default=None,
                     help="Take numerical gradients on the Dask cluster whose scheduler is at ADDRESS "
                          "(e.g. tcp://host:8786); needs fastgrad[distributed]."),
        click.option("--dask-workers", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Take numerical gradients on a local Dask cluster of N single-threaded worker "
                          "processes, started and stopped by this command; needs fastgrad[distributed]."),
    ], f)
