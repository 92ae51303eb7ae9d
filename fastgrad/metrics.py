"""How good a trained net is, in the data's own terms.

Classification (one-hot targets): the predicted class is the output's argmax;

    accuracy = (1/n) #{i : predicted_i = true_i},   confusion[a, b] = #{i : true_i = a, predicted_i = b}.

Regression, in the data's units (a standardised dataset's scaling undone), per target column j:

    R^2_j = 1 - sum_i (y_ij - o_ij)^2 / sum_i (y_ij - mean_i y_ij)^2,   RMSE_j = sqrt((1/n) sum_i (y_ij - o_ij)^2);

``r2`` is the mean of R^2_j over the columns (scikit-learn's uniform average), ``rmse`` the
root of the mean square over all entries.
"""
from __future__ import annotations

import numpy as np

from .datasets import Dataset
from .model import MLP


def classification(Y: np.ndarray, outputs: np.ndarray) -> dict:
    """Accuracy and confusion matrix (rows: true class, columns: predicted) of one-hot ``Y``."""
    return of_classes(Y.argmax(axis=1), outputs.argmax(axis=1), Y.shape[1])


def of_classes(true: np.ndarray, predicted: np.ndarray, k: int) -> dict:
    """``classification`` from class indices in [0, k); a true index of -1 (a label the net does
    not know) counts as wrong and stays out of the confusion matrix."""
    confusion = np.zeros((k, k), dtype=np.int64)
    known = true >= 0
    np.add.at(confusion, (true[known], predicted[known]), 1)
    return {"accuracy": float((true == predicted).mean()), "confusion": confusion.tolist()}


def regression(Y: np.ndarray, outputs: np.ndarray) -> dict:
    """R^2 (mean over the columns) and RMSE (over all entries, and per column) of ``outputs``
    against ``Y``, both in the same units. A constant target column has R^2 nan."""
    residual = ((Y - outputs) ** 2).sum(axis=0)
    spread = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(spread > 0, 1.0 - residual / spread, np.nan)
    return {"r2": float(r2.mean()), "rmse": float(np.sqrt(residual.sum() / Y.size)),
            "rmse_per_target": np.sqrt(residual / Y.shape[0]).tolist()}


def evaluate(net: MLP, data: Dataset, X: np.ndarray, Y: np.ndarray) -> dict:
    """The metrics of ``net`` on rows X, Y of ``data`` (scaled as ``data`` is)."""
    outputs = net.predict(X)
    if data.kind == "classification":
        return classification(Y, outputs)
    scaling = data.scaling
    if scaling is not None:
        outputs, Y = scaling.original_targets(outputs), scaling.original_targets(Y)
    return regression(Y, outputs)


def summary(metrics: dict) -> str:
    """The metrics in a few words: "accuracy 97.2 %" or "R^2 0.478, RMSE 53.1"."""
    if "accuracy" in metrics:
        return f"accuracy {100 * metrics['accuracy']:.1f} %"
    return f"R^2 {metrics['r2']:.3f}, RMSE {metrics['rmse']:.4g}"
