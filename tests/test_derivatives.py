"""approx_derivative, check_grad and hessian of any function, against scipy's own."""
import warnings

import numpy as np
import pytest
from numba import njit
from scipy.optimize import check_grad as scipy_check_grad
from scipy.optimize._numdiff import approx_derivative as scipy_approx_derivative

import fastgrad as fg


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_gradient(x):
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


def rosenbrock_hessian(x):
    H = np.diag(-400.0 * x[:-1], 1) + np.diag(-400.0 * x[:-1], -1)
    d = np.zeros_like(x)
    d[:-1] = 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    d[1:] += 200.0
    return H + np.diag(d)


def vector_to_vector(x, a):
    return np.array([x[0] * a, np.sin(x).sum(), x[-1] ** 3])


def scalar_to_vector(x):
    return np.array([np.sin(x[0]), x[0] ** 2])


def scalar_to_scalar(x):
    return np.exp(x[0])


def nan_in_places(x):
    return np.where(x > 0.5, np.nan, x ** 2)


COMPILED = {f: njit(f) for f in (rosenbrock, vector_to_vector, scalar_to_vector, scalar_to_scalar, nan_in_places)}
CASES = [  # (function, x0, options): scalar and vector ins and outs, bounds, steps, NaN
    (rosenbrock, np.linspace(-1.0, 2.0, 7), {}),
    (vector_to_vector, np.array([0.3, -2.0, 1e-9, 5e3]), {"args": (2.0,)}),
    (scalar_to_vector, 0.7, {}),
    (scalar_to_scalar, np.array(1.5), {}),
    (nan_in_places, np.array([0.1, 0.9, -0.3]), {}),
    (rosenbrock, np.array([0.0, 1.0, 2.0, 0.5]), {"bounds": ([0.0] * 4, [1.0, 1.0, 2.0, 0.5 + 1e-9])}),
    (rosenbrock, np.array([0.0, 1.0, 2.0, 0.5]), {"bounds": (0.0, 2.0), "rel_step": 1e-3}),
    (vector_to_vector, np.array([0.0, 1.0, 2.0]), {"args": (3.0,), "abs_step": [1e-4, 0.0, 1e-30]}),
]
IDS = [f"{f.__name__}-{'-'.join(o) or 'plain'}" for f, _, o in CASES]


def _cases_with(methods):
    return [pytest.param(f, x0, o, m, id=f"{i}-{m}") for (f, x0, o), i in zip(CASES, IDS) for m in methods]


@pytest.mark.parametrize("fun,x0,options,method", _cases_with(["2-point", "3-point", "cs"]))
def test_python_loop_equals_scipy_bit_for_bit(fun, x0, options, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN in places
        expected = scipy_approx_derivative(fun, x0, method=method, **options)
        got = fg.approx_derivative(fun, x0, method=method, **options)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.slow
@pytest.mark.parametrize("fun,x0,options,method", _cases_with(["2-point", "3-point", "cs"]))
def test_compiled_loops_equal_scipy_on_the_same_compiled_function(fun, x0, options, method, force_threads):
    compiled = COMPILED[fun]
    if fun is nan_in_places and method == "cs":  # numba has no complex comparison: one line, a hint
        with pytest.raises(TypeError, match=r"^fun: numba could not compile the loop around nan_in_places"
                                            r"\(x, \*args\) \(.+\); backend='python' calls it from Python$"):
            fg.approx_derivative(compiled, x0, method=method, **options)
        return
    fg.set_num_threads(2)
    expected = scipy_approx_derivative(compiled, x0, method=method, **options)
    serial = fg.approx_derivative(compiled, x0, method=method, backend="numba", **options)
    spread = fg.approx_derivative(compiled, x0, method=method, backend="numba-parallel", **options)
    assert serial.shape == expected.shape
    np.testing.assert_array_equal(serial, expected)  # the same values of f, the same quotients
    np.testing.assert_array_equal(spread, serial)


@pytest.mark.parametrize("method,digits", [("backward", 6), ("central4", 10), ("richardson", 10)])
def test_fastgrads_rules_are_accurate_and_equal_on_every_backend(method, digits, force_threads):
    fg.set_num_threads(2)
    x = np.linspace(-1.0, 2.0, 7)
    compiled = COMPILED[rosenbrock]
    exact = rosenbrock_gradient(x)
    python, info = fg.approx_derivative(rosenbrock, x, method=method, full_output=True)
    serial = fg.approx_derivative(compiled, x, method=method, backend="numba")
    spread = fg.approx_derivative(compiled, x, method=method, backend="numba-parallel")
    np.testing.assert_allclose(python, exact, rtol=10.0 ** -digits, atol=10.0 ** -digits)
    np.testing.assert_array_equal(serial, python)
    np.testing.assert_array_equal(spread, python)
    assert info["nfev"] == 1 + {"backward": 1, "central4": 4, "richardson": 6}[method] * x.size
    if method == "richardson":  # the estimate bounds the true error, and not by orders of magnitude
        error = np.abs(python - exact)
        assert np.all(error <= info["error_estimate"])
        assert np.max(info["error_estimate"]) < 1e-8
    # a vector function: the Jacobian, against the central rule's
    J = fg.approx_derivative(vector_to_vector, x[:3], method=method, args=(2.0,))
    np.testing.assert_allclose(J, fg.approx_derivative(vector_to_vector, x[:3], args=(2.0,)), rtol=1e-6, atol=1e-8)


def test_fastgrads_rules_step_one_way_and_stay_within_bounds():
    x = np.array([0.5, 1.0])
    g = fg.approx_derivative(rosenbrock, x, method="backward", bounds=(-1.0, 1.0))  # steps down only
    np.testing.assert_allclose(g, rosenbrock_gradient(x), rtol=1e-5)
    with pytest.raises(ValueError, match=r"bounds: method 'central4' evaluates f at x0 - 2 h to x0 \+ 2 h, which "
                                         r"leaves the bounds at coordinate 1 \(use '3-point'"):
        fg.approx_derivative(rosenbrock, x, method="central4", bounds=(-1.0, 1.0))


def test_shapes_names_and_evaluation_counts_are_scipys():
    x = np.array([0.5, -1.0, 2.0])
    assert fg.approx_derivative(rosenbrock, x).shape == (3,)
    assert fg.approx_derivative(scalar_to_vector, 1.0).shape == (2, 1)
    assert fg.approx_derivative(vector_to_vector, x, args=(1.0,)).shape == (3, 3)
    for ours, theirs in (("forward", "2-point"), ("central", "3-point"), ("complex-step", "cs")):
        np.testing.assert_array_equal(fg.approx_derivative(rosenbrock, x, method=ours),
                                      scipy_approx_derivative(rosenbrock, x, method=theirs))
        J, info = fg.approx_derivative(rosenbrock, x, method=ours, full_output=True)
        _, scipy_info = scipy_approx_derivative(rosenbrock, x, method=theirs, full_output=True)
        assert info == {"nfev": scipy_info["nfev"], "backend": "python"}
    assert fg.approx_derivative(COMPILED[rosenbrock], x, full_output=True)[1]["backend"] == "numba-parallel"
    assert fg.approx_derivative(rosenbrock, x, f0=rosenbrock(x), full_output=True)[1]["nfev"] == 6


def test_kwargs_reach_a_python_function():
    def scaled(x, factor=1.0):
        return factor * rosenbrock(x)
    x = np.array([0.5, -1.0])
    np.testing.assert_array_equal(fg.approx_derivative(scaled, x, kwargs={"factor": 3.0}),
                                  scipy_approx_derivative(scaled, x, kwargs={"factor": 3.0}))


def test_bad_input_is_refused_in_words():
    x = np.array([0.5, 1.0])
    for call, error, message in (
            (lambda: fg.approx_derivative(rosenbrock, x, method="5-point"), ValueError,
             r"method: unknown '5-point'; expected one of 2-point, forward, 3-point, central, cs, complex-step, "
             r"backward, central4, richardson"),
            (lambda: fg.approx_derivative(rosenbrock, np.ones((2, 2))), ValueError,
             r"x0: expected a scalar or a 1-D array, got shape \(2, 2\)"),
            (lambda: fg.approx_derivative(rosenbrock, ["a", "b"]), ValueError, r"x0: expected real numbers, got <U1"),
            (lambda: fg.approx_derivative(lambda v: 1 / 0, x), ValueError,
             r"fun: raised ZeroDivisionError at x0: division by zero"),
            (lambda: fg.approx_derivative(lambda v: np.ones((2, 2)), x), ValueError,
             r"fun: returned shape \(2, 2\); expected a scalar or a 1-D array"),
            (lambda: fg.approx_derivative(lambda v: "text", x), TypeError,
             r"fun: returned <U4 values; expected real numbers"),
            (lambda: fg.approx_derivative(rosenbrock, x, backend="numba"), ValueError,
             r"backend: 'numba' compiles the loop around a numba-compiled fun \(@numba.njit\); rosenbrock is not one"),
            (lambda: fg.approx_derivative(COMPILED[rosenbrock], x, backend="numba", kwargs={"a": 1}), ValueError,
             r"kwargs: the compiled loop passes positional args only"),
            (lambda: fg.approx_derivative(rosenbrock, x, bounds=(1.0, 2.0)), ValueError, r"x0: lies outside bounds"),
            (lambda: fg.approx_derivative(rosenbrock, x, bounds=([0, 0, 0], 2.0)), ValueError,
             r"bounds: expected \(lower, upper\), each a number or an array of 2"),
            (lambda: fg.approx_derivative(3.0, x), ValueError, r"fun: expected a callable, got float"),
            (lambda: fg.check_grad(rosenbrock, rosenbrock_gradient, x, direction="up"), ValueError,
             r"direction: unknown value 'up'; expected one of all, random"),
            (lambda: fg.hessian(scalar_to_vector, x), ValueError,
             r"fun: hessian needs a scalar function; fun returned shape \(2,\)")):
        with pytest.raises(error, match=message):
            call()


@pytest.mark.parametrize("direction", ["all", "random"])
def test_check_grad_gives_scipys_number(direction):
    x = np.linspace(-1.0, 2.0, 7)
    good = fg.check_grad(rosenbrock, rosenbrock_gradient, x, direction=direction, seed=3)
    assert good == scipy_check_grad(rosenbrock, rosenbrock_gradient, x, direction=direction, rng=3)
    assert good < 1e-3
    wrong = fg.check_grad(rosenbrock, lambda v: rosenbrock_gradient(v) * 1.01, x, direction=direction, seed=3)
    assert wrong > 1.0


def test_hessian_is_symmetric_accurate_and_equal_across_backends(force_threads):
    fg.set_num_threads(2)
    x = np.linspace(-1.0, 2.0, 9)
    compiled = COMPILED[rosenbrock]
    serial = fg.hessian(compiled, x, backend="numba")
    spread = fg.hessian(compiled, x, backend="numba-parallel")
    python = fg.hessian(rosenbrock, x)
    np.testing.assert_array_equal(spread, serial)
    np.testing.assert_array_equal(serial, serial.T)
    exact = rosenbrock_hessian(x)
    for H in (serial, python):
        np.testing.assert_allclose(H, exact, rtol=0, atol=1e-7 * np.abs(exact).max())


def test_hessian_vector_product_from_a_gradient():
    x = np.linspace(-1.0, 2.0, 50)
    exact = rosenbrock_hessian(x)
    for v in (np.ones(50), np.linspace(-3.0, 1.0, 50), np.eye(50)[7] * 1e-3):
        product = fg.hessian_vector_product(rosenbrock_gradient, x, v)
        np.testing.assert_allclose(product, exact @ v, rtol=0, atol=1e-7 * np.abs(exact @ v).max())
    np.testing.assert_array_equal(fg.hessian_vector_product(rosenbrock_gradient, x, np.zeros(50)), np.zeros(50))
    with pytest.raises(ValueError, match=r"v: expected 50 finite numbers, got shape \(3,\)"):
        fg.hessian_vector_product(rosenbrock_gradient, x, np.ones(3))
    with pytest.raises(ValueError, match=r"grad: returned shape \(1,\); expected the gradient's \(50,\)"):
        fg.hessian_vector_product(rosenbrock, x, np.ones(50))


def _module_text():
    """A user's module for the command line: the Rosenbrock function compiled, its gradient, a
    wrong gradient and a vector function."""
    import inspect
    return ("import numpy as np\nfrom numba import njit\n\n\n@njit\n" + inspect.getsource(rosenbrock)
            + inspect.getsource(rosenbrock_gradient) + inspect.getsource(scalar_to_vector)
            + "\n\ndef wrong(x):\n    return rosenbrock_gradient(x) * 1.01\n")


def test_cli_derivative_prints_checks_and_records(tmp_path):
    import json

    from click.testing import CliRunner

    from fastgrad.cli import cli
    module = tmp_path / "model.py"
    module.write_text(_module_text())
    x0 = np.array([1.0, 2.0, 0.5])
    np.save(tmp_path / "x0.npy", x0)
    runner = CliRunner()
    ok = runner.invoke(cli, ["derivative", f"{module}:rosenbrock", "--x0", str(tmp_path / "x0.npy"),
                             "--check", f"{module}:rosenbrock_gradient", "--json", str(tmp_path / "d.json")])
    assert ok.exit_code == 0, ok.output
    assert "gradient by 3-point, 7 evaluations, backend numba-parallel" in ok.output
    assert "check PASSED" in ok.output
    record = json.loads((tmp_path / "d.json").read_text())
    expected = scipy_approx_derivative(COMPILED[rosenbrock], x0)
    np.testing.assert_allclose(record["derivative"], expected, rtol=1e-12)
    assert record["check"]["passed"] and record["settings"]["x0"] == x0.tolist()
    failed = runner.invoke(cli, ["derivative", f"{module}:rosenbrock", "--x0", "1,2,0.5", "--check", f"{module}:wrong"])
    assert failed.exit_code == 1 and "check FAILED" in failed.output
    assert "entry (1,): given 3.032020000000e+03" in failed.output  # the worst entry first
    jacobian = runner.invoke(cli, ["derivative", f"{module}:scalar_to_vector", "--x0", "0.5", "--method", "cs",
                                   "--json", "-"])
    assert jacobian.exit_code == 0
    assert json.loads(jacobian.stdout)["derivative"] == scipy_approx_derivative(scalar_to_vector, 0.5,
                                                                                method="cs").tolist()
    for args, message in ((["derivative", "nomodule_here:f", "--x0", "1"],
                           "Error: FUNCTION: cannot import nomodule_here (No module named 'nomodule_here')"),
                          (["derivative", f"{module}:absent", "--x0", "1"],
                           f"Error: FUNCTION: {module} has no function 'absent'"),
                          (["derivative", "rosen", "--x0", "1"],
                           "Error: FUNCTION: expected MODULE:FUNCTION (a module or a .py file, then a function's "
                           "name), got 'rosen'"),
                          (["derivative", f"{module}:rosenbrock", "--x0", "1,a"],
                           "Error: --x0: expected comma-separated numbers such as 1,2,3 or a .npy file, got '1,a'"),
                          (["derivative", f"{module}:scalar_to_vector", "--x0", "1,2", "--check",
                            f"{module}:rosenbrock_gradient"],
                           "Error: --check: the given derivative has shape (2,), the differences (2, 2)")):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.strip().splitlines()[-1] == message
