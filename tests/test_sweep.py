"""hsweep: errors over h per method, best steps and truncation slopes; the command."""
import json

import pytest
from click.testing import CliRunner

import fastgrad as fg
from fastgrad.cli import cli
from helpers import make_problem


def test_full_sweep_shows_orders_and_a_round_off_rise():
    net, X, Y = make_problem([1, 6, 1], n=15, seed=3)
    sweep = fg.hsweep(net, X, Y, methods=("forward", "central", "central4"), points=14)
    for method, order in [("forward", 1), ("central", 2), ("central4", 4)]:
        assert sweep.slopes[method] == pytest.approx(order, abs=0.3)
        errors = sweep.errors[method]
        assert errors[0] > 100 * sweep.best[method][1]  # round-off at the smallest h
    assert sweep.best["forward"][0] < sweep.best["central"][0] < sweep.best["central4"][0]


def test_incremental_differences_have_no_round_off_rise():
    net, X, Y = make_problem([1, 6, 1], n=15, seed=3)
    sweep = fg.hsweep(net, X, Y, methods=("central",), points=8, strategy="incremental")
    assert sweep.errors["central"][0] < 1e-13


def test_relu_skips_complex_step_and_bad_arguments():
    net, X, Y = make_problem([2, 4, 1], "relu")
    with pytest.warns(UserWarning, match=r"complex-step left out of the sweep"):
        assert "complex-step" not in fg.hsweep(net, X, Y, methods=("central", "complex-step"), points=3).errors
    with pytest.raises(ValueError, match=r"methods: complex-step needs analytic activations .* no other"):
        fg.hsweep(net, X, Y, methods=("complex-step",), points=3)
    with pytest.raises(ValueError, match=r"methods: unknown method 'euler'"):
        fg.hsweep(net, X, Y, methods=("euler",))
    with pytest.raises(ValueError, match=r"h_min: expected 0 < h_min < h_max"):
        fg.hsweep(net, X, Y, h_min=1e-2, h_max=1e-3)


def test_hsweep_command_writes_plot_and_json(tmp_path):
    plot, data = str(tmp_path / "h.png"), str(tmp_path / "h.json")
    result = CliRunner().invoke(cli, ["hsweep", "--points", "8", "--plot", plot, "--json", data])
    assert result.exit_code == 0, result.output
    assert "best h" in result.output and "central4" in result.output
    numbers = json.load(open(data))
    assert len(numbers["h"]) == 8 and set(numbers["best"]) >= {"central", "complex-step"}
    assert numbers["expected_orders"]["central4"] == 4
    assert open(plot, "rb").read(4) == b"\x89PNG"


@pytest.mark.parametrize("args,message", [
    (["--methods", "nope"], "methods: unknown method 'nope'"),
    (["--h-min", "1", "--h-max", "0.1"], "--h-min: expected 0 < h_min < h_max"),
    (["--points", "1"], "Invalid value for '--points'"),
])
def test_hsweep_bad_input(args, message):
    result = CliRunner().invoke(cli, ["hsweep", *args])
    assert result.exit_code == 2 and message in result.output and result.output.count("\n") == 1


def test_gradcheck_command_methods_and_fast_mode():
    result = CliRunner().invoke(cli, ["gradcheck", "--method", "complex-step", "--top", "2"])
    assert result.exit_code == 0 and "method=complex-step" in result.output
    fast = CliRunner().invoke(cli, ["gradcheck", "--fast"])
    assert fast.exit_code == 0 and "PASSED (fast;" in fast.output and "random direction" in fast.output
    relu = CliRunner().invoke(cli, ["gradcheck", "--activation", "relu", "--method", "complex-step"])
    assert relu.exit_code == 2 and "needs analytic activations" in relu.output
