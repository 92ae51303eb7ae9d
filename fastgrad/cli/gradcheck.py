"""fastgrad gradcheck: the analytic gradient against the numerical one, entry by entry."""
import sys

import click

from ..check import gradcheck
from ..rules import METHODS
from ..io import write_json
from .app import cli
from .common import CompileNotice, cluster, cluster_option, describe, recorded_settings, say, setup
from .options import cluster_options, figure_option, json_option, model_options, positive_number_option


@cli.command("gradcheck")
@model_options
@positive_number_option("--rtol", default="1e-5", show_default=True,
                        help="Relative tolerance: an entry passes when |a - g| <= atol + rtol |g|.")
@positive_number_option("--atol", default="1e-8", show_default=True, help="Absolute tolerance (see --rtol).")
@click.option("--method", type=click.Choice(METHODS), default="central", show_default=True,
              help="Difference method of the numerical gradient.")
@click.option("--fast", is_flag=True, help="Check one random direction first; all entries only if it fails.")
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True, help="Worst entries listed.")
@figure_option("--plot", help="Save a heat map of the relative errors (.png, .pdf or .svg).")
@json_option("the report")
@cluster_options
def gradcheck_command(rtol, atol, method, fast, top, plot, json_path, backend, threads, h, scheduler, dask_workers,
                      **settings):
    """Compare the analytic and numerical gradients; exit 1 when they disagree."""
    option = cluster_option(scheduler, dask_workers)
    run = setup(threads, settings)
    tell = say(json_path)
    with cluster(option, scheduler, dask_workers) as client, CompileNotice(), _BlockBar(client is not None) as bar:
        on_cluster = dict(backend="dask", client=client, progress=bar) if client is not None else dict(backend=backend)
        report = gradcheck(run.net, run.data.X, run.data.Y, loss=run.loss, h=h, rtol=rtol, atol=atol, method=method,
                           fast=fast, top=top, seed=run.seed, **on_cluster)
    tell(describe(settings["data"], run))
    tell(str(report))
    if json_path:
        write_json(json_path, {"settings": recorded_settings(run), **report.to_json()})
    if plot and report.relative_errors is not None:
        from .. import plots
        plots.error_heatmap(plot, run.net, report.relative_errors,
                            f"gradcheck {settings['data']} {run.net.sizes}: relative error per weight")
        tell(f"heat map saved to {plot}")
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
