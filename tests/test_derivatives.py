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
            (lambda: fg.approx_derivative(lambda v: np.ones((2, 2)), x), RuntimeError,  # scipy's type and words
             r"`fun` return value has more than 1 dimension \(shape \(2, 2\)\)"),
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


def test_check_gradient_finds_the_wrong_entry():
    x = np.linspace(-1.0, 2.0, 50)
    good = fg.check_gradient(rosenbrock, rosenbrock_gradient, x)
    assert good.passed and good.max_rel_error < 1e-6

    def wrong(v):
        g = rosenbrock_gradient(v)
        g[17] *= 1.001
        return g
    report = fg.check_gradient(rosenbrock, wrong, x, top=3)
    assert not report.passed and report.worst[0][0] == (17,)
    index, given, numerical, abs_error, rel_error = report.worst[0]
    assert given == wrong(x)[17] and abs_error == abs(given - numerical)
    assert rel_error == pytest.approx(1e-3 / 1.001, rel=1e-4)  # |a - g| / max(|a|, |g|)
    table = str(report)
    assert table.splitlines()[0].startswith("derivative check FAILED (method=3-point, rtol=1e-05, atol=1e-08)")
    assert "17" in table.splitlines()[3] and table.splitlines()[3].endswith("NO")
    assert report.to_json()["worst"][0]["index"] == [17] and len(report.to_json()["worst"]) == 3


def test_check_jacobian_takes_a_vector_function():
    x = np.array([0.3, -2.0, 1.0])

    def jacobian(v, a):
        return np.array([[a, 0.0, 0.0], np.cos(v), [0.0, 0.0, 3.0 * v[-1] ** 2]])
    assert fg.check_jacobian(vector_to_vector, jacobian, x, args=(2.0,)).passed
    nudge = np.zeros((3, 3))
    nudge[1, 1] = 1e-3
    off = fg.check_jacobian(vector_to_vector, lambda v, a: jacobian(v, a) + nudge, x, args=(2.0,))
    assert not off.passed and off.worst[0][0] == (1, 1)
    with pytest.raises(ValueError, match=r"rtol: expected a finite number > 0, got -1.0"):
        fg.check_gradient(rosenbrock, rosenbrock_gradient, x, rtol=-1.0)


@pytest.mark.parametrize("method,tolerance", [("central", 1e-7), ("forward", 1e-4), ("complex-step", 1e-8)])
def test_hessian_methods_diagonal_and_sparsity(method, tolerance):
    x = np.linspace(-1.0, 2.0, 9)
    exact = rosenbrock_hessian(x)
    H = fg.hessian(rosenbrock, x, method=method)
    np.testing.assert_allclose(H, exact, rtol=0, atol=tolerance * np.abs(exact).max())
    np.testing.assert_array_equal(H, H.T)
    np.testing.assert_array_equal(fg.hessian_diagonal(rosenbrock, x, method=method), np.diag(H))
    banded = fg.hessian(rosenbrock, x, method=method, sparsity=exact != 0)
    np.testing.assert_array_equal(banded, np.where(exact != 0, H, 0.0))
    stepped = fg.hessian(rosenbrock, x, method=method, step=1e-3)
    np.testing.assert_allclose(stepped, exact, rtol=0, atol=1e-2 * np.abs(exact).max())


def test_compiled_hessians_equal_the_python_loop(force_threads):
    fg.set_num_threads(2)
    x = np.linspace(-1.0, 2.0, 7)
    for method in ("central", "forward", "complex-step"):
        python = fg.hessian(rosenbrock, x, method=method)
        for backend in ("numba", "numba-parallel"):
            np.testing.assert_array_equal(fg.hessian(COMPILED[rosenbrock], x, method=method, backend=backend), python)


def test_hessian_and_jvp_refuse_bad_input_in_words():
    x = np.array([0.5, 1.0])
    for call, message in ((lambda: fg.hessian(rosenbrock, x, method="cs"),
                           r"method: unknown 'cs'; expected one of central, forward, complex-step"),
                          (lambda: fg.hessian(rosenbrock, x, step=-1.0),
                           r"step: expected a positive number or 2 of them"),
                          (lambda: fg.hessian(rosenbrock, x, sparsity=np.eye(3)),
                           r"sparsity: expected a structure of shape \(2, 2\), got \(3, 3\)"),
                          (lambda: fg.hessian_diagonal(rosenbrock, x, method="x"), r"method: unknown 'x'"),
                          (lambda: fg.jvp(rosenbrock, x, [1.0]), r"v: expected 2 finite numbers, got shape \(1,\)"),
                          (lambda: fg.jvp(rosenbrock, x, x, method="central4"),
                           r"method: a directional derivative takes 2-point, 3-point or cs"),
                          (lambda: fg.jvp(rosenbrock, x, x, rel_step=0.0), r"rel_step: expected a positive number")):
        with pytest.raises(ValueError, match=message):
            call()


@pytest.mark.parametrize("method,rtol", [("2-point", 1e-6), ("3-point", 1e-9), ("cs", 1e-13)])
def test_jvp_is_the_jacobian_along_v_from_one_pair(method, rtol):
    x = np.array([0.3, -2.0, 1.5])
    v = np.array([1.0, -0.5, 2.0])
    calls = []

    def counted(y, a):
        calls.append(1)
        return vector_to_vector(y, a)
    exact = np.array([[2.0, 0.0, 0.0], np.cos(x), [0.0, 0.0, 3.0 * x[-1] ** 2]]) @ v
    np.testing.assert_allclose(fg.jvp(counted, x, v, method=method, args=(2.0,)), exact, rtol=rtol)
    assert len(calls) == (2 if method != "cs" else 1)
    np.testing.assert_array_equal(fg.jvp(counted, x, np.zeros(3), args=(2.0,)), np.zeros(3))


def test_float32_values_take_float32_steps_as_scipy():
    def squares32(x):
        return (x * x).astype(np.float32)
    x = np.array([1.0, 2.0, 3.0])
    compiled = njit(squares32)
    for fun, backend in ((squares32, "python"), (compiled, "numba")):
        J = fg.approx_derivative(fun, x, backend=backend)
        np.testing.assert_allclose(np.diag(J), 2 * x, rtol=1e-3)  # float64 steps gave [1.89, 4.09, 5.88]
    np.testing.assert_array_equal(fg.approx_derivative(squares32, x), scipy_approx_derivative(squares32, x))
    x32 = x.astype(np.float32)
    seen = []

    def recorded(v):
        seen.append(v.dtype)
        return np.sin(v)
    for method in ("2-point", "3-point"):
        np.testing.assert_array_equal(fg.approx_derivative(recorded, x32, method=method),
                                      scipy_approx_derivative(recorded, x32, method=method))
    assert set(seen) == {np.dtype(np.float32)}


def _divides_past_two(x):
    if x[1] > 2.0:
        return 1.0 / 0.0
    return np.sum(x ** 2)


@njit
def _raises_past_two(x):
    if x[1] > 2.0:
        raise ValueError("too far")
    return np.sum(x ** 2)


def _moves_x(x):
    x[0] += 1.0
    return np.sum(x ** 2)


@pytest.mark.parametrize("fun,backend,message", [
    (_divides_past_two, None, r"^fun: raised ZeroDivisionError at x0 \+ 1.21e-05 e_1: float division by zero$"),
    (_raises_past_two, "numba-parallel", r"^fun: raised ValueError at x0 \+ 1.21e-05 e_1: too far$"),
    (_raises_past_two, "numba", r"^fun: raised ValueError at x0 \+ 1.21e-05 e_1: too far$"),
    (_moves_x, None, r"^fun: changed its argument x in place"),
])
def test_errors_at_perturbed_points_name_fun_and_the_point(fun, backend, message):
    with pytest.raises(ValueError, match=message):
        fg.approx_derivative(fun, np.array([1.0, 2.0, 0.5]), backend=backend)


def test_a_complex_gradient_is_refused_by_the_report_and_measured_as_scipy_does():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    f, x0 = (lambda x: np.sum(x ** 2)), np.array([1.0, 2.0])
    assert fg.check_grad(f, lambda x: 2 * x + 5j, x0) == scipy_optimize.check_grad(f, lambda x: 2 * x + 5j, x0)
    with pytest.raises(ValueError, match=r"^grad: returned complex values"):
        fg.check_gradient(f, lambda x: 2 * x + 5j, x0)
    with pytest.raises(ValueError, match=r"^grad: returned <U3 values; expected numbers$"):
        fg.check_gradient(f, lambda x: "abc", x0)


SLOW_FUNCTION = """
import sys, numpy as np, numba, fastgrad as fg
@numba.njit
def busy(x):
    total = 0.0
    for k in range(20_000_000):  # about a quarter of a second per call
        total += np.sin(x[k % x.size] + k)
    return total
fg.approx_derivative(busy, np.zeros(1), backend="numba")  # the loop around busy compiled
print("ready", flush=True)
fg.approx_derivative(busy, np.zeros(30), backend="numba")
print("finished", flush=True)
"""


@pytest.mark.slow
def test_ctrl_c_stops_a_slow_compiled_loop_between_blocks():
    """30 coordinates of a function taking about a quarter of a second: Ctrl-C ends the loop after
    the block under way, not after all 60 evaluations."""
    import signal
    import subprocess
    import sys
    import time
    child = subprocess.Popen([sys.executable, "-c", SLOW_FUNCTION], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    assert child.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    child.send_signal(signal.SIGINT)
    start = time.monotonic()
    _, stderr = child.communicate(timeout=60)
    assert "KeyboardInterrupt" in stderr and child.returncode != 0
    assert time.monotonic() - start < 5.0  # the whole loop would take 15 s more


@njit
def _does_not_type(x):
    return x[0][1] + np.sum(x)


def test_a_numba_typing_error_is_one_line_saying_what_went_wrong():
    with pytest.raises(ValueError) as caught:
        fg.approx_derivative(_does_not_type, np.array([1.0, 2.0]))
    message = str(caught.value)
    assert "\n" not in message and "\x1b" not in message
    assert message.startswith("fun: numba could not compile it for x0 (TypingError: No implementation of function")
