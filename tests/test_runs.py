"""fastgrad.runs: a run's data, net and loss from its settings, as the command line builds them."""
import numpy as np
import pytest

from fastgrad import datasets, runs
from fastgrad.io import save_weights
from fastgrad.model import MLP


def test_the_default_is_the_textbook_example_with_its_own_net_and_settings():
    run = runs.setup()
    example = datasets.seed_numerical_example()
    assert run.net.sizes == [1, 10, 1] and run.loss == "mse" and run.seed == 0 and run.resumed_after == 0
    np.testing.assert_array_equal(run.net.theta, example.net.theta)  # the notebook's weights
    np.testing.assert_array_equal(run.data.X, example.data.X)
    assert (run.steps(), run.eta()) == (10000, 0.01) and (run.steps(7), run.eta(0.5)) == (7, 0.5)
    assert (runs.setup("seed-analytic").steps(), runs.setup("seed-analytic").eta()) == (100000, 0.1)


def test_a_seed_or_any_net_setting_asks_for_a_new_net():
    example = runs.setup()
    for settings in ({"seed": 0}, {"init": "normal"}, {"activation": "tanh"}):
        run = runs.setup(**settings)
        assert not np.array_equal(run.net.theta, example.net.theta), settings
        np.testing.assert_array_equal(run.net.theta, MLP([1, 10, 1], seed=0).theta)
        assert run.loss == "mse"  # the example's loss for its identity output
    sigmoid = runs.setup(output="sigmoid")
    assert sigmoid.net.output == "sigmoid" and sigmoid.loss == "mse"


def test_the_other_datasets_get_a_net_that_fits_them():
    spirals = runs.setup("spirals", samples=60, seed=4)
    assert spirals.net.sizes == [2, 10, 3] and spirals.net.output == "softmax" and spirals.loss == "cross-entropy"
    assert spirals.data.X.shape == (60, 2) and spirals.seed == 4 and (spirals.steps(), spirals.eta()) == (1000, 0.1)
    sine = runs.setup("sine", sizes=[1, 4, 4, 1], activation="relu", init="scaled", loss="squared")
    assert sine.net.sizes == [1, 4, 4, 1] and sine.net.hidden == ["relu", "relu"] and sine.data.X.shape == (25, 1)


def test_a_csv_file_with_a_test_share_and_standardized(tmp_path):
    path = tmp_path / "d.csv"
    x = np.linspace(0, 10, 40)
    path.write_text("area,price\n" + "".join(f"{1000 * v:.3f},{2e5 + 5e4 * np.sin(v):.3f}\n" for v in x))
    with pytest.warns(UserWarning, match="--standardize"):
        plain = runs.setup(str(path), test_fraction=0.25, seed=1)
    assert plain.data.X.shape == (30, 1) and plain.data.X_test.shape == (10, 1) and plain.data.scaling is None
    scaled = runs.setup(str(path), test_fraction=0.25, seed=1, standardize=True)
    assert abs(scaled.data.X.mean()) < 1e-12 and scaled.data.scaling is not None


@pytest.mark.parametrize("settings,message", [
    ({"samples": 5}, "samples: only sine and spirals take a sample count, not the seed data"),
    ({"data": "sine", "target": ["y"]}, "target: only for CSV files, not the sine data"),
    ({"data": "spirals", "classify": True}, "classify: only for CSV files"),
    ({"data": "seed-analytic", "test_fraction": 0.2}, "test_fraction: only for CSV files"),
    ({"sizes": [2, 10, 1]}, "sizes: the net [2, 10, 1] does not fit the data, which has 1 input(s) and 1 output(s)"),
    ({"loss": "cross-entropy"}, "loss: 'cross-entropy' cannot be used with a 'identity' output"),
    ({"data": "missing.csv"}, "missing.csv: cannot read the file"),
])
def test_each_refusal_names_its_argument(settings, message):
    with pytest.raises(ValueError) as error:
        runs.setup(**settings)
    assert str(error.value).startswith(message)


def test_resume_takes_the_saved_net_steps_and_scaling(tmp_path):
    w = tmp_path / "w.npz"
    net = MLP([1, 6, 1], seed=3)
    scaling = datasets.Scaling.of(datasets.sine(seed=0)).to_json()
    save_weights(w, net, steps_done=40, scaling=scaling)
    run = runs.setup("sine", resume=w)
    np.testing.assert_array_equal(run.net.theta, net.theta)
    assert run.resumed_after == 40 and run.data.scaling is not None
    np.testing.assert_array_equal(run.data.scaling.x_mean, scaling["x_mean"])
    with pytest.raises(ValueError, match=r"^resume: .*w.npz holds a \[1, 6, 1\] net, not the \[1, 7, 1\] of sizes"):
        runs.setup("sine", resume=w, sizes=[1, 7, 1])
    with pytest.raises(ValueError, match=r"^resume .*w.npz: the net \[1, 6, 1\] does not fit the data, which has 2"):
        runs.setup("spirals", resume=w)
    save_weights(w, net, scaling={"x_mean": [0.0, 1.0], "x_std": [1.0]})
    with pytest.raises(ValueError, match=r"^resume .*w.npz: scaling: x_mean does not fit 1 columns"):
        runs.setup("sine", resume=w)


def test_the_building_blocks_alone():
    data, example = runs.load_data("sine", samples=9, seed=2)
    assert example is None and data.X.shape == (9, 1)
    net = runs.fitting_net(data, sizes=[1, 3, 1], seed=2)
    runs.check_fit(net, data)
    with pytest.raises(ValueError, match="^mine: the net"):
        runs.check_fit(MLP([2, 3, 1]), data, source="mine")
    assert runs.scaled(data) is data and runs.scaled(data, standardize=True).scaling is not None


def test_resuming_refuses_settings_that_the_saved_net_fixes(tmp_path):
    import fastgrad as fg
    path = tmp_path / "w.npz"
    fg.save_weights(str(path), fg.MLP([1, 5, 1], hidden="tanh", seed=0), steps_done=3)
    for option, value, message in (("activation", "relu", r"^activation: .* holds a net with activation tanh, not relu"),
                                   ("output", "sigmoid", r"^output: .* holds a net with output identity, not sigmoid"),
                                   ("init", "scaled", r"^init: .* holds trained weights, which resuming keeps")):
        with pytest.raises(ValueError, match=message):
            runs.setup("sine", resume=str(path), **{option: value})
    same = runs.setup("sine", resume=str(path), activation="tanh", output="identity")
    assert same.resumed_after == 3
