"""fastgrad train: train a net, report it, save the weights and figures."""
import sys
import warnings

import click

from .. import datasets, metrics as metrics_module, policy
from ..io import save_weights, write_json
from ..optimizers import NAMES as OPTIMIZERS, optimizer as optimizer_of
from ..problem import loss as loss_value
from ..train import GRADIENTS, UPDATES, ClusterFailure, DivergenceError, held_signals, train
from .app import STOPS, cli
from .common import CompileNotice, cluster, cluster_option, cluster_words, describe, recorded_settings, say, \
    setup
from .options import cluster_options, figure_option, json_option, model_options, output_option, \
    positive_number_option


@cli.command("train")
@model_options
@click.option("--gradient", type=click.Choice(GRADIENTS), default="numerical", show_default=True,
              help="numerical: central differences (step --h, else the library's rule "
                   "eps^(1/2) max(1, |theta|); the seed examples: 1e-5); analytic: backpropagation.")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="sgd", show_default=True,
              help="sgd: theta -= eta g; momentum: v = beta v + g, theta -= eta v; adam: Kingma and Ba's.")
@click.option("--beta", type=click.FloatRange(0, 1, max_open=True), default=None, help="momentum's beta [0.9].")
@click.option("--beta1", type=click.FloatRange(0, 1, max_open=True), default=None, help="adam's beta1 [0.9].")
@click.option("--beta2", type=click.FloatRange(0, 1, max_open=True), default=None, help="adam's beta2 [0.999].")
@positive_number_option("--epsilon", default=None, help="adam's epsilon [1e-8].")
@click.option("--features", default=None, help="CSV: input columns, comma-separated names or indices "
                                               "[every column but the target and --drop].")
@click.option("--drop", default=None, help="CSV: columns to leave out, comma-separated names or indices.")
@click.option("--validation-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.0,
              help="Share of the training rows held out for validation: its loss is recorded, and the "
                   "weights of least validation loss are kept with --patience.")
@click.option("--patience", type=click.IntRange(min=1), default=None,
              help="Stop once the validation loss has not improved for this many steps, and keep the best "
                   "weights (needs --validation-fraction).")
@click.option("--update", type=click.Choice(UPDATES), default="gradient", show_default=True,
              help="gradient: theta -= eta g; coordinate: the notebook's entry-by-entry sweep.")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="Steps (sweeps) [seed: 10000, seed-analytic: 100000, else 1000].")
@positive_number_option("--eta", default=None, help="Step size [seed: 0.01, seed-analytic: 0.1, else 0.1].")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Minibatch size (default: full batch).")
@figure_option("--plot", help="Save the fit as a figure (.png, .pdf or .svg).")
@figure_option("--loss-plot", help="Save the loss curve as a figure.")
@output_option("--save", replaces=("--resume",), help="Save the final weights (.npz); may be the --resume file.")
@json_option("metrics")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@cluster_options
def train_command(gradient, update, steps, eta, batch_size, plot, loss_plot, save, json_path, quiet, backend, threads,
                  h, scheduler, dask_workers, optimizer, beta, beta1, beta2, epsilon, patience, **settings):
    """Train a net; with no options, the textbook's numerical example (10,000 steps).

    New nets start from scaled (Glorot/He) weights, the seed examples from the notebook's.
    The metrics (accuracy and confusion matrix, or R^2 and RMSE in the data's units) are
    printed for the training, validation and test rows."""
    option = cluster_option(scheduler, dask_workers)
    if option is not None and (gradient, update) != ("numerical", "gradient"):
        raise ValueError(f"{option}: the cluster takes numerical gradient steps only (--gradient numerical, "
                         "--update gradient)")
    chosen = optimizer_of(optimizer, **_given(beta=beta, beta1=beta1, beta2=beta2, epsilon=epsilon))
    if patience is not None and not settings["validation_fraction"]:
        raise ValueError("--patience: early stopping needs validation rows (--validation-fraction)")
    for name in ("features", "drop"):
        settings[name] = None if settings[name] is None else [c.strip() for c in settings[name].split(",")]
    settings["drop"] = settings["drop"] or ()
    run = setup(threads, settings)
    steps, eta = run.steps(steps), run.eta(eta)
    tell = say(json_path)
    with cluster(option, scheduler, dask_workers) as client:
        engine = engine_line(run.net, batch_size or run.data.X.shape[0], gradient, backend, update,
                             None if client is None else cluster_words(client, scheduler))
        header = (describe(settings["data"], run) + "\n"
                  + f"gradient {gradient} ({engine}), update {update}, "
                  + (f"optimizer {chosen}, " if chosen.module is not None else "") + f"eta {eta:g}, {steps} steps"
                  + (f", batch {batch_size}" if batch_size else "")
                  + (f", resuming {settings['resume']} after {run.resumed_after} steps" if settings["resume"] else ""))
        status, code = "completed", 0
        with _progress(steps, quiet, header, tell) as report, CompileNotice() as notice:
            report.notice = notice
            try:
                history = train(run.net, run.data.X, run.data.Y, loss=run.loss, gradient=gradient,
                                backend="dask" if client is not None else backend, client=client, steps=steps, eta=eta,
                                h=h or run.h, batch_size=batch_size, update=update, seed=run.seed, progress=report,
                                optimizer=chosen, validation=_held_out(run.data), patience=patience)
                status = history.stopped
            except (DivergenceError, ClusterFailure) as exc:  # the net keeps its last good weights: saved below
                history, status, code = exc.history, exc.history.stopped, 2
                click.echo(f"Error: {exc}", err=True)
        loading = ("to compile the kernels (first run; later runs load them)" if notice.watch.compiled
                   else "for the workers to load or compile their kernels" if client is not None
                   else "to load the compiled kernels")
        if status == "interrupted":
            code = STOPS.code
            if history.steps_done == 0:
                click.echo(f"{STOPS.words} before the first step; no file written.", err=True)
                return code
            click.echo(f"{STOPS.words} after {history.steps_done} steps.", err=True)
        if history.steps_done and save:  # the weights first: nothing after this can lose them
            with held_signals():
                _save(run, history, status, save, tell)
        metrics = _metrics(run, steps, eta, history, status)
        metrics.update(optimizer={"name": chosen.name, **vars(chosen)}, patience=patience)
        _report(run, history, metrics, loading, tell)
        if history.steps_done:
            title = f"{settings['data']}: {run.net.sizes}, {gradient} gradient, {history.steps_done} steps"
            with held_signals():  # a stop now is taken once the files are written
                _write(run, history, metrics, title, json_path=json_path, plot=plot, loss_plot=loss_plot)
        return code


def _given(**parameters):
    """The optimizer parameters given (not None)."""
    return {k: v for k, v in parameters.items() if v is not None}


def _held_out(data):
    """The rows whose loss the history records: validation rows, else test rows, else None."""
    if data.X_val is not None:
        return data.X_val, data.Y_val
    return None if data.X_test is None else (data.X_test, data.Y_test)


def engine_line(net, batch, gradient, backend, update, cluster_words=None):
    """How the gradient runs, in words, for the header: on the cluster (``cluster_words``),
    over numba-parallel's threads, or serially and why."""
    if cluster_words is not None:
        return cluster_words
    return policy.training_engine(net.n_params, batch, gradient, backend, update).describe()


def _metrics(run, steps, eta, history, status):
    """The run's results; step numbers count from the start of a resumed run's first run. The
    losses are numpy's: the compiled loss would cost a cold run a compile for two numbers."""
    data, net, before = run.data, run.net, run.resumed_after
    metrics = {"sizes": net.sizes, "activations": net.activations, "loss": run.loss, "eta": eta,
               "steps_requested": steps, "steps_done": history.steps_done, "steps_before": before,
               "status": status, "seconds": history.seconds, "load_seconds": history.load_seconds,
               "training_loss": loss_value(net, data.X, data.Y, run.loss, "numpy"),
               "history": {"step": [before + s for s in history.steps], "loss": history.losses}}
    if data.X_test is not None:
        metrics["testing_loss"] = loss_value(net, data.X_test, data.Y_test, run.loss, "numpy")
    if history.held_out_losses:
        metrics["history"]["held_out"] = "validation" if data.X_val is not None else "test"
        metrics["history"]["held_out_step"] = [before + s for s in history.held_out_steps]
        metrics["history"]["held_out_loss"] = history.held_out_losses
        metrics["best_step"] = before + history.best_step
        metrics["best_loss"] = history.best_loss
    if data.X_val is not None:
        metrics["validation_loss"] = loss_value(net, data.X_val, data.Y_val, run.loss, "numpy")
    for rows, X, Y in (("training", data.X, data.Y), ("validation", data.X_val, data.Y_val),
                       ("testing", data.X_test, data.Y_test)):
        if X is not None:
            metrics[f"{rows}_metrics"] = metrics_module.evaluate(net, data, X, Y)
    return metrics


def _report(run, history, metrics, loading, tell):
    """Say the run's losses (with a warning if it stalled on badly scaled data) and its time."""
    data = run.data
    if data.scaling is None and history.losses and metrics["training_loss"] > 0.99 * history.losses[0] \
            and (warning := datasets.scale_warning(data)):
        warnings.warn(f"training stalled: the loss fell by {1 - metrics['training_loss'] / history.losses[0]:.1%} "
                      f"in {history.steps_done} steps; {warning}")
    tell(f"training loss = {metrics['training_loss']:.6g}" + (" (standardized targets)" if data.scaling is not None
                                                               and data.kind == "regression" else ""))
    if "validation_loss" in metrics:
        tell(f"validation loss = {metrics['validation_loss']:.6g}")
    if "testing_loss" in metrics:
        tell(f"testing loss = {metrics['testing_loss']:.6g}")
    if metrics.get("history", {}).get("held_out") == "validation":
        tell(f"least {metrics['history']['held_out']} loss {metrics['best_loss']:.6g} at step {metrics['best_step']}"
             + ("; the net keeps those weights" if metrics["patience"] else ""))
    for rows in ("training", "validation", "testing"):
        if f"{rows}_metrics" in metrics:
            tell(f"{rows} {metrics_module.summary(metrics[f'{rows}_metrics'])}")
    if history.steps_done == 0:
        click.echo(f"no step done ({history.load_seconds:.2g} s compiling or loading the kernels); "
                   "no file written", err=True)
        return
    per_step = history.seconds / history.steps_done
    tell(f"time {history.seconds:.3g} s for {history.steps_done} steps ({per_step * 1e6:.3g} µs per step; "
         f"{history.load_seconds:.2g} s before that {loading})")


def _save(run, history, status, save, tell):
    """Save the weights with what resuming them and predicting with them needs."""
    scaling = {} if run.data.scaling is None else {"scaling": run.data.scaling.to_json()}
    save_weights(save, run.net, status=status, steps_done=run.resumed_after + history.steps_done, seed=run.seed,
                 data_options=run.data_options, **scaling)
    tell(f"weights saved to {save}")


def _write(run, history, metrics, title, json_path, plot, loss_plot):
    """Write the other files asked for (None: not asked): the JSON record, the figures."""
    net, data = run.net, run.data
    if json_path:
        write_json(json_path, {"settings": recorded_settings(run), **metrics})
    if plot or loss_plot:
        from .. import plots  # matplotlib takes a second to import: only when a figure is asked for
        if plot:
            plots.fit_plot(plot, net, data, title)
        if loss_plot and history.losses:
            plots.loss_plot(loss_plot, history, title)


class _progress:
    """Prints ``header`` once training has begun (its options all accepted, nothing compiled
    yet), then, from the first chunk on, a progress bar on stderr with the current loss (no
    bar when quiet)."""

    def __init__(self, steps, quiet, header, tell):
        self.steps, self.quiet, self.header, self.tell = steps, quiet, header, tell
        self.bar, self.done, self.loss, self.notice = None, 0, None, None

    def __enter__(self):
        return self

    def _start_bar(self):
        self.bar = click.progressbar(length=self.steps, file=sys.stderr, label="training",
                                     item_show_func=lambda _: None if self.loss is None else f"loss {self.loss:.4g}")
        self.bar.__enter__()

    def __call__(self, done, loss):
        if self.header is not None:
            self.tell(self.header)
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
            self.tell(self.header)
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False
