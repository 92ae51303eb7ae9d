"""fastgrad gradcheck: the analytic gradient against the numerical one, entry by entry."""
import sys

import click

from ..check import gradcheck
from ..gradients.methods import METHODS
from ..io import write_json
from .app import cli
from .common import CompileNotice, cluster, cluster_option, describe, say, settings, setup
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
def gradcheck_command(**o):
    """Compare the analytic and numerical gradients; exit 1 when they disagree."""
    option = cluster_option(o["scheduler"], o["dask_workers"])
    run = setup(o)
    tell = say(o["json_path"])
    with cluster(option, o["scheduler"], o["dask_workers"]) as client, CompileNotice(), \
            _BlockBar(client is not None) as bar:
        on_cluster = dict(backend="dask", client=client, progress=bar) if client is not None \
            else dict(backend=o["backend"])
        report = gradcheck(run.net, run.data.X, run.data.Y, loss=run.loss, h=o["h"], rtol=o["rtol"], atol=o["atol"],
                           method=o["method"], fast=o["fast"], top=o["top"], seed=run.seed, **on_cluster)
    tell(describe(o["data"], run))
    tell(str(report))
    if o["json_path"]:
        write_json(o["json_path"], {"settings": settings(o, run), **report.to_json()})
    if o["plot"] and report.relative_errors is not None:
        from .. import plots
        plots.error_heatmap(o["plot"], run.net, report.relative_errors,
                            f"gradcheck {o['data']} {run.net.sizes}: relative error per weight")
        tell(f"heat map saved to {o['plot']}")
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
