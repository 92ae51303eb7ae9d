"""Difference methods and step rules: convergence orders, complex step, Richardson, defaults."""
import numpy as np
import pytest

import fastgrad as fg
from fastgrad.rules import combine, taken

EPS = np.finfo(np.float64).eps  # the rule's constants derived here, not read from the module
from helpers import make_problem, scaled_error

METHODS = ["forward", "backward", "central", "central4", "richardson", "complex-step"]


@pytest.fixture(scope="module")
def smooth():
    net, X, Y = make_problem([2, 6, 2], "tanh", "identity", n=20, seed=2)
    return net, X, Y, fg.analytic_gradient(net, X, Y, backend="numpy")


@pytest.mark.parametrize("method,order,hs", [
    ("forward", 1, [1e-2, 5e-3, 2.5e-3, 1.25e-3]),
    ("backward", 1, [1e-2, 5e-3, 2.5e-3, 1.25e-3]),
    ("central", 2, [1e-1, 5e-2, 2.5e-2, 1.25e-2]),
    ("central4", 4, [2e-1, 1e-1, 5e-2, 2.5e-2]),
])
def test_convergence_order_in_the_truncation_regime(smooth, method, order, hs):
    net, X, Y, exact = smooth
    errors = [np.abs(fg.numerical_gradient(net, X, Y, h=h, method=method, backend="numba") - exact).max()
              for h in hs]
    slope = np.polyfit(np.log(hs), np.log(errors), 1)[0]
    assert slope == pytest.approx(order, abs=0.25)


def test_complex_step_reaches_machine_precision(smooth):
    net, X, Y, exact = smooth
    for backend in ("numba", "numba-parallel"):
        g = fg.numerical_gradient(net, X, Y, method="complex-step", backend=backend)
        assert scaled_error(g, exact) <= 1e-13


@pytest.mark.slow
@pytest.mark.parametrize("output,loss", [("sigmoid", "mse"), ("softmax", "cross-entropy")])
def test_complex_step_other_losses(output, loss):
    net, X, Y = make_problem([3, 4, 3], "sigmoid", output, n=15, seed=4)
    exact = fg.analytic_gradient(net, X, Y, loss=loss, backend="numpy")
    g = fg.numerical_gradient(net, X, Y, loss=loss, method="complex-step", backend="numba")
    assert scaled_error(g, exact) <= 1e-13


def test_complex_step_refuses_relu_and_the_baselines():
    net, X, Y = make_problem([2, 3, 1], "relu")
    with pytest.raises(ValueError, match=r"method: 'complex-step' needs analytic activations; 'relu' is not"):
        fg.numerical_gradient(net, X, Y, method="complex-step")
    net, X, Y = make_problem([2, 3, 1], "tanh")
    with pytest.raises(ValueError, match=r"method: 'complex-step' runs on the compiled backends only \(numba, numba-parallel, dask\), not 'numpy'"):
        fg.numerical_gradient(net, X, Y, method="complex-step", backend="numpy")


def test_richardson_beats_central_and_its_estimate_bounds_the_error(smooth):
    net, X, Y, exact = smooth
    for h in (1e-1, 3e-2, 1e-2):
        central = fg.numerical_gradient(net, X, Y, h=h, method="central", backend="numba")
        result = fg.numerical_gradient(net, X, Y, h=h, method="richardson", backend="numba", full_output=True)
        assert np.abs(result.gradient - exact).max() < np.abs(central - exact).max() / 100
        assert np.all(np.abs(result.gradient - exact) <= result.error_estimate)


def test_default_steps_follow_the_rule(smooth):
    net, X, Y, _ = smooth
    net = net.copy()
    net.theta[3] = 7.5
    for method, power, incremental_power in [("forward", 1 / 2, 1 / 2), ("backward", 1 / 2, 1 / 2),
                                             ("central", 1 / 3, 1 / 2), ("central4", 1 / 5, 1 / 5),
                                             ("richardson", 1 / 7, 1 / 7)]:
        # incremental: exact steps; the central rule's smaller, its changes being free of cancellation
        expected = EPS ** incremental_power * np.maximum(1.0, np.abs(net.theta))
        steps = fg.numerical_gradient(net, X, Y, method=method, full_output=True).steps
        np.testing.assert_allclose(steps, expected, rtol=1e-15)
        assert steps[3] == pytest.approx(7.5 * EPS ** incremental_power)
        expected = EPS ** power * np.maximum(1.0, np.abs(net.theta))
        full = fg.numerical_gradient(net, X, Y, method=method, strategy="full", full_output=True).steps
        assert np.array_equal(full, (net.theta + expected) - net.theta)  # full: the steps as taken
    assert np.all(fg.numerical_gradient(net, X, Y, method="complex-step", full_output=True).steps == 1e-20)
    assert np.all(fg.numerical_gradient(net, X, Y, h=1e-4, full_output=True).steps == 1e-4)
    steps = fg.numerical_gradient(net, X, Y, h=1e-4, backend="numpy", full_output=True).steps
    assert np.array_equal(steps, (net.theta + 1e-4) - net.theta)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["forward", "backward", "central", "central4", "richardson"])
@pytest.mark.parametrize("output,loss", [("identity", "squared"), ("sigmoid", "mse"), ("softmax", "cross-entropy")])
def test_every_method_agrees_across_backends_and_strategies(method, output, loss, force_threads):
    net, X, Y = make_problem([2, 4, 3, 3], "tanh", output, n=12, seed=6)
    net.theta[5] = 3.0  # a step off the u-table in the incremental kernel
    exact = fg.analytic_gradient(net, X, Y, loss=loss, backend="numpy")
    results = {}
    for backend, strategy in [("python", None), ("numpy", None), ("numba", "full"), ("numba", "incremental")]:
        results[(backend, strategy)] = fg.numerical_gradient(net, X, Y, loss=loss, method=method, backend=backend,
                                                             strategy=strategy)
    reference = results[("numba", "full")]
    tolerance = 1e-6 if method in ("forward", "backward") else 1e-8
    assert scaled_error(reference, exact) <= (1e-5 if method in ("forward", "backward") else 1e-7)
    for key, g in results.items():
        assert np.abs(g - reference).max() <= tolerance * np.abs(reference).max(), key
    for threads in (1, 2):
        fg.set_num_threads(min(threads, fg.runtime_info()["max_threads"]))
        for strategy in ("full", "incremental"):
            parallel = fg.numerical_gradient(net, X, Y, loss=loss, method=method, backend="numba-parallel",
                                             strategy=strategy)
            assert parallel.tobytes() == results[("numba", strategy)].tobytes()


def test_unknown_method():
    net, X, Y = make_problem([1, 2, 1])
    with pytest.raises(ValueError, match=r"method: unknown value 'five-point'"):
        fg.numerical_gradient(net, X, Y, method="five-point")


def test_combine_refuses_an_unknown_method():
    with pytest.raises(ValueError, match=r"method: 'richardsen' is not a difference rule"):
        combine("richardsen", lambda s, m, multiplier: s, np.ones(1), 0.0)


def test_quotients_divide_by_the_step_actually_taken():
    """theta = 1 + 2^-30: theta + 1e-5 rounds, so the step taken is not 1e-5; a linear loss
    E = 3 theta then gives exactly 3 only when divided by the step taken."""
    theta = np.array([1.0 + 2.0 ** -30])
    asked = np.array([1e-5])
    assert taken(theta, asked)[0] != 1e-5

    def difference(s, m, multiplier):  # E(theta + s) - E(theta - m s) for E = 3 theta, rounded once
        return 3.0 * ((theta + s) - (theta - m * s))

    for method in ("central", "forward", "backward", "central4"):
        g, _ = combine(method, difference, asked, 0.0, lambda s: taken(theta, s))
        assert abs(g[0] - 3.0) <= 2 * EPS * 3, method


def test_each_rule_is_one_record_read_by_every_user():
    from fastgrad import derivatives, rules
    for name, rule in rules.RULES.items():
        assert rules.rule_of(name) is rule
        if rule.scipy_name:
            assert rules.rule_of(rule.scipy_name) is rule
        if not rule.complex:
            assert rule.base_step == EPS ** (1 / (rule.order + 1))  # truncation h^order against eps / h
        x0 = np.array([0.3, -1.2, 2.0])
        _, info = fg.approx_derivative(lambda x: np.array([np.sum(np.sin(x)), x[0] * x[1]]), x0, method=name,
                                       full_output=True)
        assert info["nfev"] == 1 + rule.evaluations * x0.size, name
    assert set(derivatives.METHODS) == {n for r in rules.RULES.values() for n in (r.name, r.scipy_name) if n}
    # g = (64 C(h/4) - 20 C(h/2) + C(h)) / 45: each C(m h) carries eps |E| / (m h) of round-off
    assert rules.RULES["richardson"].rounding_gain == (64 * 4 + 20 * 2 + 1) / 45
    assert rules.RULES["complex-step"].relative_step == EPS ** 0.5  # scipy's "cs" step
    with pytest.raises(ValueError, match="method: unknown 'five-point'; expected one of 2-point, forward"):
        rules.rule_of("five-point")
