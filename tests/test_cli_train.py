"""fastgrad train on user data: metrics, optimizers, validation and early stopping, the step
rule, resuming with the saved data options, CSV columns and hints, the confusion figure."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

import fastgrad as fg
from fastgrad.cli import cli


def invoke(*args):
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def blobs(path, classes=3, n=120, d=3, seed=0):
    """``classes`` separated blobs in ``d`` dimensions, integer labels in the last column."""
    rng = np.random.default_rng(seed)
    label = np.arange(n) % classes
    X = rng.normal(size=(n, d)) + 3 * np.eye(classes, d)[label]
    path.write_text(",".join(f"x{j}" for j in range(d)) + ",label\n"
                    + "".join(",".join(f"{v:.6f}" for v in x) + f",{k}\n" for x, k in zip(X, label)))
    return str(path)


def line(path, n=80, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    y = 40 + 10 * X[:, 0] - 5 * X[:, 1] + rng.normal(size=n)
    path.write_text("u,v,y\n" + "".join(f"{a},{b},{c}\n" for (a, b), c in zip(X, y)))
    return str(path)


def trained(tmp_path, data, *args):
    """The output and JSON record of a successful ``fastgrad train --data data ... --json``."""
    out = str(tmp_path / "m.json")
    result = invoke("train", "--data", data, "--gradient", "analytic", "--quiet", "--json", out, *args)
    assert result.exit_code == 0, result.output
    return result.output, json.load(open(out))


def test_classification_metrics_are_printed_and_in_the_json(tmp_path):
    output, record = trained(tmp_path, blobs(tmp_path / "b.csv"), "--classify", "--test-fraction", "0.25",
                             "--steps", "300")
    testing = record["testing_metrics"]
    assert f"testing accuracy {100 * testing['accuracy']:.1f} %" in output
    assert np.sum(testing["confusion"]) == 30 and np.trace(testing["confusion"]) == round(30 * testing["accuracy"])
    assert record["history"]["held_out"] == "test"
    held_out = record["history"]["held_out_step"]
    assert len(record["history"]["held_out_loss"]) == len(held_out) == 100 and held_out[:2] == [0, 3]


def test_regression_metrics_are_in_the_data_units(tmp_path):
    output, record = trained(tmp_path, line(tmp_path / "l.csv"), "--standardize", "--test-fraction", "0.25",
                             "--steps", "400")
    assert record["testing_metrics"]["r2"] > 0.9
    assert 0.5 < record["testing_metrics"]["rmse"] < 3  # the noise is N(0, 1) in the data's units
    assert "testing R^2" in output


def test_validation_and_patience_stop_early_and_keep_the_best_weights(tmp_path):
    data, out, w = line(tmp_path / "l.csv", n=60), str(tmp_path / "m.json"), str(tmp_path / "w.npz")
    result = invoke("train", "--data", data, "--standardize", "--sizes", "2,40,1", "--gradient", "analytic",
                    "--optimizer", "adam", "--eta", "0.05", "--steps", "5000", "--validation-fraction", "0.3",
                    "--patience", "50", "--quiet", "--json", out, "--save", w)
    assert result.exit_code == 0, result.output
    record = json.load(open(out))
    assert record["status"] == "stopped early" and record["steps_done"] < 5000
    assert record["steps_done"] - record["best_step"] >= 50
    assert record["validation_loss"] == pytest.approx(record["best_loss"], rel=1e-12)
    assert f"at step {record['best_step']}; the net keeps those weights" in result.output
    assert record["history"]["held_out"] == "validation"


@pytest.mark.parametrize("args, message", [
    (("--patience", "5"), "--patience: early stopping needs validation rows"),
    (("--optimizer", "sgd", "--beta1", "0.5"), "beta1: not a parameter of sgd"),
    (("--update", "coordinate", "--optimizer", "momentum"), "optimizer: the coordinate update"),
])
def test_bad_training_options_are_refused(args, message):
    result = invoke("train", "--data", "sine", "--steps", "2", "--quiet", *args)
    assert result.exit_code == 2 and message in result.output


def test_optimizer_options_reach_the_run(tmp_path):
    out = str(tmp_path / "m.json")
    assert invoke("train", "--data", "sine", "--steps", "20", "--gradient", "analytic", "--optimizer", "adam",
                  "--beta1", "0.8", "--epsilon", "1e-6", "--quiet", "--json", out).exit_code == 0
    assert json.load(open(out))["optimizer"] == {"name": "adam", "beta1": 0.8, "beta2": 0.999, "epsilon": 1e-6}


def test_numerical_training_steps_by_the_rule_and_the_seed_example_by_its_h(tmp_path):
    w = str(tmp_path / "w.npz")
    assert invoke("train", "--data", "sine", "--steps", "30", "--quiet", "--save", w).exit_code == 0
    data = fg.datasets.sine(seed=0)
    net = fg.MLP([1, 10, 1], init="scaled", seed=0)
    fg.train(net, data.X, data.Y, steps=30, eta=0.1, seed=0)  # h=None: the rule
    assert fg.load_weights(w)[0].theta.tobytes() == net.theta.tobytes()
    assert invoke("train", "--steps", "30", "--quiet", "--save", w).exit_code == 0
    ex = fg.datasets.seed_numerical_example()
    fg.train(ex.net, ex.data.X, ex.data.Y, loss="mse", steps=30, eta=ex.eta, h=1e-5, seed=0)
    assert fg.load_weights(w)[0].theta.tobytes() == ex.net.theta.tobytes()


def test_new_nets_start_scaled_and_the_seed_example_keeps_the_notebook_weights(tmp_path):
    run = fg.runs.setup("sine", sizes=[1, 10, 1])
    assert run.net.theta.tobytes() == fg.MLP([1, 10, 1], init="scaled", seed=0).theta.tobytes()
    assert fg.runs.setup().net.theta.tobytes() == fg.datasets.seed_numerical_example().net.theta.tobytes()


def test_resume_reuses_the_saved_data_options_and_refuses_others(tmp_path):
    data, w, out = blobs(tmp_path / "b.csv"), str(tmp_path / "w.npz"), str(tmp_path / "m.json")
    assert invoke("train", "--data", data, "--classify", "--test-fraction", "0.25", "--seed", "3", "--features",
                  "x0,x2", "--gradient", "analytic", "--steps", "5", "--quiet", "--save", w).exit_code == 0
    resumed = invoke("train", "--resume", w, "--gradient", "analytic", "--steps", "5", "--quiet", "--json", out)
    assert resumed.exit_code == 0, resumed.output
    settings = fg.load_weights(w)[1]["data_options"]
    assert settings["data"] == data and settings["test_fraction"] == 0.25 and settings["features"] == ["x0", "x2"]
    assert "data " + data + ": 90 training samples" in resumed.output
    for args, message in [(("--test-fraction", "0.5"), "--test-fraction: " + w + " was trained with test_fraction 0.25"),
                          (("--seed", "4"), "--seed: " + w + " was trained on rows drawn or split with seed 3"),
                          (("--features", "x1"), "--features: " + w + " was trained with features")]:
        result = invoke("train", "--resume", w, "--steps", "1", "--quiet", *args)
        assert result.exit_code == 2 and message in result.output, result.output


def test_classify_hint_and_confusion_figure(tmp_path, monkeypatch):
    from fastgrad import plots
    data = blobs(tmp_path / "b.csv")
    drawn = {}
    monkeypatch.setattr(plots, "_save", lambda fig, path: drawn.update(fig=fig))
    assert invoke("train", "--data", data, "--classify", "--gradient", "analytic", "--steps", "50", "--quiet",
                  "--plot", str(tmp_path / "f.png")).exit_code == 0
    ax = drawn["fig"].axes[0]
    assert ax.get_xlabel() == "predicted class" and ax.images[0].get_array().shape == (3, 3)
    assert int(np.asarray(ax.images[0].get_array()).sum()) == 120
    text = tmp_path / "t.csv"
    text.write_text("x,kind\n1,dog\n2,cat\n")
    result = invoke("train", "--data", str(text), "--steps", "1", "--quiet")
    assert result.exit_code == 2 and "class labels? add --classify" in result.output


def test_every_command_resumes_on_the_saved_data(tmp_path):
    w = str(tmp_path / "w.npz")
    assert invoke("train", "--data", "sine", "--samples", "30", "--steps", "3", "--gradient", "analytic", "--quiet",
                  "--save", w).exit_code == 0
    result = invoke("gradcheck", "--resume", w)
    assert result.exit_code == 0 and "data sine: 30 training samples" in result.output, result.output
