"""Problem: validated once, bound to net.theta, its methods equal the free functions bit for bit."""
import numpy as np
import pytest

import fastgrad as fg
from helpers import CONFIGURATIONS, make_problem


@pytest.mark.slow
@pytest.mark.parametrize("hidden,output,loss", CONFIGURATIONS[:4])
def test_methods_equal_the_free_functions_bit_for_bit(hidden, output, loss):
    net, X, Y = make_problem([3, 6, 4, 2] if output != "softmax" else [3, 6, 3], hidden, output, n=17, seed=4)
    prob = fg.Problem(net, X, Y, loss)
    out = np.empty(net.n_params)
    for h in (None, 1e-4):
        for backend in ("numba", "numba-parallel"):
            free = fg.numerical_gradient(net, X, Y, loss=loss, h=h, backend=backend)
            assert prob.numerical_gradient(out=out, h=h, backend=backend) is out
            assert out.tobytes() == free.tobytes()
    for method in ("forward", "central4", "complex-step") if hidden != "relu" else ("forward",):
        free = fg.numerical_gradient(net, X, Y, loss=loss, method=method)
        assert prob.numerical_gradient(method=method).tobytes() == free.tobytes()
    assert prob.analytic_gradient(out=out) is out
    assert out.tobytes() == fg.analytic_gradient(net, X, Y, loss=loss).tobytes()
    assert prob.loss() == fg.loss(net, X, Y, loss)  # the same compiled kernel
    assert prob.loss() == pytest.approx(fg.loss(net, X, Y, loss, backend="numpy"), rel=1e-14)
    assert prob.gradcheck().passed


def test_a_problem_sees_new_weights_and_validates_once():
    net, X, Y = make_problem([2, 5, 1], n=9, seed=1)
    prob = fg.Problem(net, X, Y)
    before = prob.analytic_gradient()
    net.theta = net.theta * 0.5  # the problem reads the weights at each call
    after = prob.analytic_gradient()
    assert not np.array_equal(before, after)
    assert after.tobytes() == fg.analytic_gradient(net, X, Y).tobytes()
    assert prob.loss_name == "squared" and prob.XT.shape == (2, 9)


def test_what_a_problem_is_derived_from_is_read_only():
    net, X, Y = make_problem([2, 5, 1], n=9, seed=1)
    prob = fg.Problem(net, X, Y)
    for name, value in (("net", fg.MLP([3, 2, 1])), ("X", 2.0 * X), ("Y", Y), ("loss_name", "mse")):
        with pytest.raises(AttributeError):
            setattr(prob, name, value)
    assert prob.net is net and prob.X is X and prob.loss_name == "squared"
    assert repr(prob).startswith("Problem(net=MLP(") and repr(prob).endswith("loss_name='squared')")


def test_a_repeated_call_skips_only_what_cannot_change():
    """A plan (a call's checked options) is reused, but out, bad options and new weights are still seen."""
    net, X, Y = make_problem([2, 5, 1], n=9, seed=1)
    prob = fg.Problem(net, X, Y)
    first = prob.numerical_gradient(h=1)
    assert len(prob.plans) == 1 and prob.plan(("numerical", int, 1, "numba-parallel", None, "central")) is not None
    with pytest.raises(ValueError, match="h: expected a positive number, got True"):
        prob.numerical_gradient(h=True)  # True == 1 and hashes alike: not the plan of h=1
    with pytest.raises(ValueError, match="h: expected"):
        prob.numerical_gradient(h=[1])  # unhashable: checked, not planned
    for method in ("numerical_gradient", "analytic_gradient"):
        getattr(prob, method)()
        with pytest.raises(ValueError, match=r"out: expected a writable contiguous float64 array of shape \(21,\)"):
            getattr(prob, method)(out=np.empty(20))
    net.theta = net.theta * 0.5
    again = prob.numerical_gradient(h=1)
    assert not np.array_equal(first, again)
    assert again.tobytes() == fg.numerical_gradient(net, X, Y, h=1).tobytes()
    assert prob.analytic_gradient().tobytes() == fg.analytic_gradient(net, X, Y).tobytes()


def test_problems_of_one_kind_share_their_plans():
    """A new Problem of the same activations, loss and sizes starts from the plans of earlier
    ones (a free function builds a Problem per call); other sizes plan anew."""
    net, X, Y = make_problem([2, 5, 1], n=9, seed=3)
    options = ("analytic", "numba")
    first = fg.Problem(net, X, Y)
    first.analytic_gradient()
    again = fg.Problem(net, 2.0 * X, Y)
    assert again.plan(options) is first.plan(options) is not None
    assert again.analytic_gradient().tobytes() == fg.analytic_gradient(net, 2.0 * X, Y).tobytes()
    assert fg.Problem(net, X[:4], Y[:4]).plan(options) is None
    assert fg.Problem(net, X, Y, loss="mse").plan(options) is None


def test_bad_input_and_bad_out():
    net, X, Y = make_problem([2, 5, 1], n=9, seed=1)
    with pytest.raises(ValueError, match=r"Y: expected shape \(n, 1\), got \(9, 2\)"):
        fg.Problem(net, X, np.zeros((9, 2)))
    prob = fg.Problem(net, X, Y)
    for bad in (np.empty(net.n_params + 1), np.empty(net.n_params, dtype=np.float32), [0.0] * net.n_params):
        with pytest.raises(ValueError, match=r"out: expected a writable contiguous float64 array of shape \(21,\)"):
            prob.analytic_gradient(out=bad)
    with pytest.raises(ValueError, match=r"out: only for the whole gradient"):
        prob.numerical_gradient(out=np.empty(net.n_params), entries=[0, 1])


def test_weights_made_non_finite_after_the_problem_was_built_are_named(seed_net):
    net, X, Y = seed_net
    prob = fg.Problem(net, X, Y)
    prob.numerical_gradient()  # planned
    net.theta[3] = np.nan
    for call in (prob.loss, prob.analytic_gradient, prob.numerical_gradient,
                 lambda: prob.numerical_gradient(strategy="full"), lambda: prob.numerical_gradient(method="complex-step")):
        with pytest.raises(ValueError, match=r"^theta: non-finite value nan at index 3$"):
            call()


def test_numpy_loss_over_blocks_of_rows_equals_the_whole(monkeypatch):
    from fastgrad import problem
    rng = np.random.default_rng(0)
    net, X = fg.MLP([2, 30, 3], seed=0), rng.normal(size=(1001, 2))
    Y = rng.normal(size=(1001, 3))
    whole = fg.loss(net, X, Y, backend="numpy")
    monkeypatch.setattr(problem, "NUMPY_LOSS_BYTES", 8 * 30 * 7)  # blocks of 7 rows, the last one short
    assert fg.loss(net, X, Y, backend="numpy") == pytest.approx(whole, rel=1e-14)
