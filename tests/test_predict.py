"""Prediction: load_model applies the saved scaling and gives class labels back; fastgrad predict."""
import numpy as np
import pytest
from click.testing import CliRunner

import fastgrad as fg
from fastgrad import load_model
from fastgrad.cli import cli


def write_classes(path, n=90, seed=0):
    """Two far-apart blobs of large-scale inputs, labelled 'low' and 'high', and a text column."""
    rng = np.random.default_rng(seed)
    label = np.arange(n) % 2
    X = rng.normal(size=(n, 2)) * 5 + 1000 + 40 * label[:, None]
    rows = [f"{a:.6f},{b:.6f},id{i},{'high' if k else 'low'}" for i, ((a, b), k) in enumerate(zip(X, label))]
    path.write_text("a,b,name,kind\n" + "\n".join(rows) + "\n")
    return X, np.where(label, "high", "low")


def invoke(*args):
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def test_model_predicts_labels_from_raw_inputs(tmp_path):
    data, w = tmp_path / "d.csv", str(tmp_path / "w.npz")
    X, labels = write_classes(data)
    trained = invoke("train", "--data", str(data), "--classify", "--drop", "name", "--standardize",
                     "--gradient", "analytic", "--steps", "300", "--quiet", "--save", w)
    assert trained.exit_code == 0, trained.output
    model = load_model(w)
    assert model.kind == "classification" and model.labels == ("high", "low")
    assert model.feature_names == ("a", "b") and model.target_names == ("kind",)
    assert list(model.predict(X)) == list(labels)
    probabilities = model.outputs(X)
    assert probabilities.shape == (len(X), 2) and np.allclose(probabilities.sum(axis=1), 1.0)
    assert model.data_options["drop"] == ["name"] and model.data_options["classify"] is True


def test_predict_command_writes_labels_and_scores_them(tmp_path):
    data, w, out = tmp_path / "d.csv", str(tmp_path / "w.npz"), str(tmp_path / "p.csv")
    _, labels = write_classes(data)
    invoke("train", "--data", str(data), "--classify", "--drop", "name", "--standardize", "--gradient", "analytic",
           "--steps", "300", "--quiet", "--save", w)
    result = invoke("predict", w, "--data", str(data), "--output", out)
    assert result.exit_code == 0, result.output
    lines = open(out).read().splitlines()
    assert lines[0] == "kind" and lines[1:] == list(labels)
    assert "90 rows: accuracy 100.0 %" in result.output
    shown = invoke("predict", w, "--data", str(data))
    assert shown.output.splitlines()[:3] == ["kind"] + list(labels[:2])


def test_regression_predictions_are_in_the_data_units(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, size=(60, 2))
    y = 500 + 200 * X[:, 0] - 100 * X[:, 1]
    data, w = tmp_path / "r.csv", str(tmp_path / "w.npz")
    data.write_text("u,v,y\n" + "".join(f"{a},{b},{c}\n" for (a, b), c in zip(X, y)))
    assert invoke("train", "--data", str(data), "--standardize", "--gradient", "analytic", "--steps", "500",
                  "--quiet", "--save", w).exit_code == 0
    model = load_model(w)
    net, meta = fg.load_weights(w)
    scaling = fg.datasets.Scaling.from_json(meta["scaling"], 2, 1)
    expected = scaling.original_targets(net.predict(scaling.inputs(X)))
    assert np.array_equal(model.predict(X), expected)
    assert np.abs(model.predict(X).ravel() - y).max() < 0.1 * np.ptp(y)


def test_predict_refuses_data_without_the_columns(tmp_path):
    data, w = tmp_path / "d.csv", str(tmp_path / "w.npz")
    write_classes(data)
    invoke("train", "--data", str(data), "--classify", "--drop", "name", "--gradient", "analytic", "--steps", "5",
           "--quiet", "--save", w)
    other = tmp_path / "o.csv"
    other.write_text("a,c\n1,2\n")
    result = invoke("predict", w, "--data", str(other))
    assert result.exit_code == 2 and "features: no column named 'b'" in result.output


def test_weights_without_data_options_load_as_a_plain_model(tmp_path):
    w = str(tmp_path / "w.npz")
    fg.save_weights(w, fg.MLP([2, 3, 2], output="softmax", seed=1))
    model = load_model(w)
    assert model.kind == "classification" and model.labels == () and model.scaling is None
    assert model.predict(np.zeros((4, 2))).shape == (4,)
    with pytest.raises(ValueError, match="missing.npz: cannot read the weights file"):
        load_model(str(tmp_path / "missing.npz"))
