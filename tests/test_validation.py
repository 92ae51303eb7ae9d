"""Bad input raises a ValueError naming the argument, before any compiled code runs."""
import numpy as np
import pytest

import fastgrad as fg

GRADIENTS = [fg.analytic_gradient, fg.numerical_gradient]


@pytest.fixture
def small():
    net = fg.MLP([2, 3, 1], seed=0)
    return net, np.zeros((4, 2)), np.zeros((4, 1))


@pytest.mark.parametrize("fn", GRADIENTS)
@pytest.mark.parametrize("X,Y,message", [
    (np.zeros((4, 3)), np.zeros((4, 1)), r"X: expected shape \(n, 2\), got \(4, 3\)"),
    (np.zeros((4, 2)), np.zeros((4, 2)), r"Y: expected shape \(n, 1\), got \(4, 2\)"),
    (np.zeros((4, 2)), np.zeros((5, 1)), r"Y: expected 4 rows to match X, got 5"),
    (np.zeros((0, 2)), np.zeros((0, 1)), r"X: expected at least one row"),
    (np.zeros((2, 2, 2)), np.zeros((4, 1)), r"X: expected shape \(n, 2\), got \(2, 2, 2\)"),
    (np.array([[0.0, np.nan]]), np.zeros((1, 1)), r"X: non-finite value nan at index \(0, 1\)"),
    (np.zeros((1, 2)), np.array([[np.inf]]), r"Y: non-finite value inf at index \(0, 0\)"),
    (np.full((1, 2), "a"), np.zeros((1, 1)), r"X: expected real numbers"),
    (np.zeros((1, 2), dtype=complex), np.zeros((1, 1)), r"X: expected real numbers"),
])
def test_bad_arrays(fn, small, X, Y, message):
    net = small[0]
    with pytest.raises(ValueError, match=message):
        fn(net, X, Y)


@pytest.mark.parametrize("fn", GRADIENTS)
def test_non_finite_theta(fn, small):
    net, X, Y = small
    net.theta[3] = np.nan
    with pytest.raises(ValueError, match=r"theta: non-finite value nan at index 3"):
        fn(net, X, Y)


def test_integer_and_list_input_is_converted(small):
    net = small[0]
    g_int = fg.analytic_gradient(net, [[1, 2], [3, 4]], [[1], [0]])
    g_float = fg.analytic_gradient(net, np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0], [0.0]]))
    assert np.array_equal(g_int, g_float)


def test_one_dimensional_input_is_one_column():
    net = fg.MLP([1, 3, 1], seed=0)
    x = np.linspace(0, 1, 5)
    assert np.array_equal(fg.analytic_gradient(net, x, x), fg.analytic_gradient(net, x[:, None], x[:, None]))


@pytest.mark.parametrize("h", [0, -1e-5, float("nan"), float("inf"), "1e-5", [1e-5]])
def test_bad_step(small, h):
    with pytest.raises(ValueError, match=r"^h: expected"):
        fg.numerical_gradient(*small, h=h)


@pytest.mark.parametrize("fn,backend", [(fg.numerical_gradient, "cuda"), (fg.analytic_gradient, "python")])
def test_unknown_backend(small, fn, backend):
    with pytest.raises(ValueError, match=rf"backend: unknown value '{backend}'; expected one of"):
        fn(*small, backend=backend)


@pytest.mark.parametrize("fn", GRADIENTS)
def test_unknown_loss(small, fn):
    with pytest.raises(ValueError, match=r"loss: unknown loss 'hinge'"):
        fn(*small, loss="hinge")


def test_unknown_activation_names():
    with pytest.raises(ValueError, match=r"hidden: unknown activation 'gelu'"):
        fg.MLP([1, 2, 1], hidden="gelu")
    with pytest.raises(ValueError, match=r"output: unknown activation 'relu'"):
        fg.MLP([1, 2, 1], output="relu")
    with pytest.raises(ValueError, match=r"hidden: unknown activation 'softmax'"):
        fg.MLP([1, 2, 1], hidden="softmax")
    with pytest.raises(ValueError, match=r"hidden: expected one activation or 2, got 1"):
        fg.MLP([1, 2, 2, 1], hidden=["tanh"])


@pytest.mark.parametrize("sizes", [[3], [], [2, 0, 1], [2, 1.5, 1], "abc", 5])
def test_bad_sizes(sizes):
    with pytest.raises(ValueError, match=r"^sizes: "):
        fg.MLP(sizes)


def test_bad_init():
    with pytest.raises(ValueError, match=r"init: unknown value 'zeros'"):
        fg.MLP([1, 2, 1], init="zeros")


def test_softmax_and_cross_entropy_go_together():
    X, Y = np.zeros((2, 2)), np.array([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match=r"loss: 'squared' cannot be used with a 'softmax' output"):
        fg.numerical_gradient(fg.MLP([2, 3, 2], output="softmax"), X, Y, loss="squared")
    with pytest.raises(ValueError, match=r"loss: 'cross-entropy' cannot be used with a 'identity' output"):
        fg.analytic_gradient(fg.MLP([2, 3, 2]), X, Y, loss="cross-entropy")


@pytest.mark.parametrize("entries,message", [
    ([0, 99], r"entries: indices must lie in \[0, 13\)"),
    ([-1], r"entries: indices must lie"),
    ([0.5], r"entries: expected a 1-D array of integer indices"),
])
def test_bad_entries(small, entries, message):
    with pytest.raises(ValueError, match=message):
        fg.numerical_gradient(*small, entries=entries)


def test_net_must_be_an_mlp():
    with pytest.raises(ValueError, match=r"net: expected a fastgrad.MLP, got dict"):
        fg.analytic_gradient({}, np.zeros((1, 1)), np.zeros((1, 1)))


def test_set_theta_checks_shape_and_values():
    net = fg.MLP([1, 2, 1])
    with pytest.raises(ValueError, match=r"theta: expected shape \(7,\), got \(6,\)"):
        net.set_theta(np.zeros(6))
    with pytest.raises(ValueError, match=r"theta: non-finite value inf at index 2"):
        net.set_theta([0, 0, np.inf, 0, 0, 0, 0])


@pytest.mark.parametrize("seed", [-1, 1.5, "a", True])
def test_a_bad_seed_is_named(seed):
    net = fg.MLP([1, 2, 1])
    X, Y = np.ones((3, 1)), np.ones((3, 1))
    for call in (lambda: fg.MLP([1, 2, 1], seed=seed), lambda: fg.datasets.sine(seed=seed),
                 lambda: fg.train(net, X, Y, steps=1, seed=seed, gradient="analytic"),
                 lambda: fg.gradcheck(net, X, Y, fast=True, seed=seed)):
        with pytest.raises(ValueError, match=r"seed: expected an integer >= 0 or None, got "):
            call()


def test_finite_values_whose_sum_overflows_are_finite_and_warn_of_nothing():
    import warnings

    from fastgrad.validation import check_finite
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an "overflow encountered" warning would reach users
        check_finite("X", np.array([1e308, 1e308, -1e308]))  # a sum would overflow; every entry is finite
    with pytest.raises(ValueError, match=r"X: non-finite value -inf at index 2"):
        check_finite("X", np.array([1e308, 1e308, -np.inf]))
    with pytest.raises(ValueError, match=r"X: non-finite value nan at index 1"):
        check_finite("X", np.array([1.0, np.nan, 2.0]))


@pytest.mark.parametrize("h,why", [(5e-324, "subnormal digits"), (1e-300, "subnormal digits"),
                                   (1e308, "its square overflows")])
def test_a_step_outside_the_meaningful_range_is_refused_naming_h(seed_net, h, why):
    net, X, Y = seed_net
    for call in (lambda: fg.numerical_gradient(net, X, Y, h=h), lambda: fg.train(net.copy(), X, Y, h=h, steps=1),
                 lambda: fg.gradcheck(net, X, Y, h=h)):
        with pytest.raises(ValueError, match=rf"^h: a finite-difference step must lie in .*\({why}\)$"):
            call()


def test_the_cli_names_h_too():
    from click.testing import CliRunner
    from fastgrad.cli import cli
    result = CliRunner().invoke(cli, ["train", "--h", "1e308", "--steps", "1"])
    assert result.exit_code == 2 and result.output.startswith("Error: --h: a finite-difference step must lie in")


def test_sizes_and_points_beyond_memory_are_refused_before_allocating(seed_net):
    from fastgrad.benchmark import parse_size
    with pytest.raises(ValueError, match=r"^sizes: 1-100000000000-1:1000 \(3e\+11 parameters, 1000 samples\) "
                                         r"would need .* of memory"):
        parse_size("1-100000000000-1:1000")
    assert parse_size("8-64-4:1000") == ([8, 64, 4], 1000)
    with pytest.raises(ValueError, match=r"^points: 100000000000000 steps and their errors by 1 methods would need"):
        fg.hsweep(*seed_net, methods=["central"], points=10 ** 14)


def test_workspaces_jacobians_and_files_beyond_memory_are_refused_before_allocating(monkeypatch, tmp_path):
    """The child never allocates: each refusal comes from the sizes alone (the free memory made
    small here stands for a machine without room)."""
    from fastgrad import validation
    monkeypatch.setattr(validation, "available_memory", lambda: 1e8)
    net = fg.MLP([1, 2000, 1], seed=0)  # 24 kB of weights
    X = np.zeros((20_000, 1))
    with pytest.raises(ValueError, match=r"^X: the workspaces of a \[1, 2000, 1\] net on 20000 samples would need "
                                         r".* of memory; this machine has 100 MB free$"):
        fg.Problem(net, X, X)
    with pytest.raises(ValueError, match=r"^x0: the values of f at 3000 points of x0 \(3000 each\) would need"):
        fg.approx_derivative(lambda x: x * 2.0, np.zeros(3000), backend="python")
    big = tmp_path / "big.csv"
    big.write_bytes(b"x,y\n" + b"1,2\n" * 2_500_000)
    with pytest.raises(ValueError, match=r"^data: reading .*big.csv \(10 MB of text\) would need 120 MB"):
        fg.datasets.load_csv(str(big))
