"""fastgrad predict: a saved net's predictions for the rows of a CSV file."""
import csv
import io

import click
import numpy as np

from .. import metrics
from ..datasets import read_inputs
from ..io import write_text
from ..predict import load_model
from .app import cli
from .options import FileArgument, input_option, output_option


@cli.command("predict")
@click.argument("weights", metavar="WEIGHTS.npz", cls=FileArgument, role="input", label="WEIGHTS",
                type=click.Path(dir_okay=False))
@input_option("--data", required=True, help="CSV file with a header row holding the net's feature columns.")
@output_option("--output", stdout=True, default="-", show_default=True,
               help="CSV file of the predictions, one row per data row ('-': standard output).")
def predict_command(weights, data, output):
    """Predict with weights saved by `fastgrad train --save`: the saved scaling is applied, and
    class labels are given back as the data wrote them. Where the file has the target
    column(s), the accuracy (or R^2 and RMSE) is said on stderr."""
    model = load_model(weights)
    X, truth = read_inputs(data, model.feature_names, model.target_names)
    if X.shape[1] != model.net.sizes[0]:
        raise ValueError(f"--data: {data} gives {X.shape[1]} input columns, the net takes {model.net.sizes[0]}")
    predicted = model.predict(X)
    names = list(model.target_names) or [f"output {j}" for j in range(model.net.sizes[-1])]
    if model.kind == "classification":
        names = names[:1]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(predicted.reshape(len(X), -1).tolist())
    if output == "-":
        click.echo(text.getvalue(), nl=False)
    else:
        write_text(output, text.getvalue())
    if truth is not None:
        click.echo(f"{len(X)} rows: {metrics.summary(_scored(model, predicted, truth))}", err=True)


def _scored(model, predicted, truth):
    """The metrics of the predictions against the file's target cells."""
    if model.kind == "classification":
        labels = [str(label) for label in model.labels]
        known = {label: k for k, label in enumerate(labels)}
        true = np.array([known.get(_label(cells[0], labels), -1) for cells in truth])
        return metrics.of_classes(true, np.array([known[str(p)] for p in predicted]), len(labels))
    return metrics.regression(np.array(truth, dtype=np.float64), predicted)


def _label(cell, labels):
    """A cell as the saved labels write it (numeric labels are written as %g)."""
    if cell in labels:
        return cell
    try:
        return f"{float(cell):g}"
    except ValueError:
        return cell
