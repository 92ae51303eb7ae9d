"""Metrics: accuracy and confusion matrix; R^2 and RMSE in the data's own units."""
import numpy as np

import fastgrad as fg
from fastgrad import datasets, metrics


def test_accuracy_and_confusion_count_true_rows_against_predicted_columns():
    Y = np.eye(3)[[0, 0, 1, 2, 2, 2]]
    outputs = np.eye(3)[[0, 1, 1, 2, 0, 2]] * 0.8 + 0.05
    result = metrics.classification(Y, outputs)
    assert result["accuracy"] == 4 / 6
    assert result["confusion"] == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert metrics.summary(result) == "accuracy 66.7 %"


def test_unknown_true_labels_count_as_wrong_and_stay_out_of_the_matrix():
    result = metrics.of_classes(np.array([0, -1, 1]), np.array([0, 0, 1]), 2)
    assert result["accuracy"] == 2 / 3 and result["confusion"] == [[1, 0], [0, 1]]


def test_r2_and_rmse_follow_their_formulas():
    rng = np.random.default_rng(1)
    Y = rng.normal(size=(50, 2)) * [1.0, 30.0] + [0.0, 100.0]
    outputs = Y + rng.normal(size=(50, 2)) * [0.5, 3.0]
    result = metrics.regression(Y, outputs)
    r2 = [1 - ((Y[:, j] - outputs[:, j]) ** 2).sum() / ((Y[:, j] - Y[:, j].mean()) ** 2).sum() for j in range(2)]
    assert np.isclose(result["r2"], np.mean(r2))
    assert np.isclose(result["rmse"], np.sqrt(((Y - outputs) ** 2).mean()))
    assert np.allclose(result["rmse_per_target"], np.sqrt(((Y - outputs) ** 2).mean(axis=0)))
    assert np.isnan(metrics.regression(np.ones((4, 1)), np.zeros((4, 1)))["r2"])


def test_regression_metrics_are_in_the_data_units_whatever_the_scaling():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 3))
    raw = datasets.Dataset(X * 50 + 7, (X @ [1.0, -2.0, 0.5])[:, None] * 100 + 300)
    scaled = datasets.standardize(raw)
    net = fg.MLP([3, 4, 1], init="scaled", seed=0)
    result = metrics.evaluate(net, scaled, scaled.X, scaled.Y)
    outputs = scaled.scaling.original_targets(net.predict(scaled.X))
    assert np.isclose(result["rmse"], np.sqrt(((raw.Y - outputs) ** 2).mean()))
    assert result["rmse"] > 10  # hundreds of units, not standardised ones
