"""fastgrad hsweep: each difference method's error against the analytic gradient over h."""
import click

from ..io import write_json
from .app import cli
from .common import CompileNotice, describe, recorded_settings, say, setup
from .options import figure_option, json_option, model_options, positive_number_option


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
@figure_option("--plot", help="Save the error-vs-h figure (.png, .pdf or .svg).")
@json_option("numbers")
def hsweep_command(methods, h_min, h_max, points, strategy, plot, json_path, backend, threads, h, **settings):
    """Error of each difference method against the analytic gradient over a range of h."""
    from ..sweep import hsweep
    if h is not None:
        raise ValueError("--h: hsweep takes its steps from --h-min to --h-max; leave --h out")
    methods = [m.strip() for m in methods.split(",") if m.strip()]
    run = setup(threads, settings)
    tell = say(json_path)
    with CompileNotice():
        sweep = hsweep(run.net, run.data.X, run.data.Y, loss=run.loss, methods=methods, h_min=h_min, h_max=h_max,
                       points=points, backend=backend, strategy=strategy)
    tell(describe(settings["data"], run))
    tell(f"{'method':>13}  {'best h':>9}  {'error there':>11}  {'truncation slope':>16}  expected")
    for method, (best_h, error) in sweep.best.items():
        slope = sweep.slopes.get(method)
        tell(f"{method:>13}  {best_h:>9.2e}  {error:>11.2e}  {'-' if slope is None else f'{slope:.2f}':>16}  "
             f"{sweep.to_json()['expected_orders'][method]}")
    if json_path:
        write_json(json_path, {"settings": recorded_settings(run), **sweep.to_json()})
    if plot:
        from .. import plots
        plots.hsweep_plot(plot, sweep, f"h-sweep: {settings['data']} {run.net.sizes}, {strategy} re-evaluation")
    return 0
