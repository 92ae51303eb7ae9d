"""MLP: one flat theta with per-layer views, initialisation, prediction, copies."""
import numpy as np
import pytest

import fastgrad as fg


def test_weights_are_views_into_one_vector():
    net = fg.MLP([3, 4, 2], seed=0)
    assert net.n_params == (3 + 1) * 4 + (4 + 1) * 2
    assert [W.shape for W in net.weights] == [(4, 4), (5, 2)]
    net.theta[:] = np.arange(net.n_params)
    assert net.weights[0][0, 0] == 0 and net.weights[1][0, 0] == 16
    net.weights[1][2, 1] = -7.0
    assert net.theta[16 + 2 * 2 + 1] == -7.0
    assert net.theta.dtype == np.float64 and net.theta.flags.c_contiguous


def test_predict_follows_the_textbook_with_bias_row_first():
    net = fg.MLP([1, 3, 1], seed=2)
    X = np.linspace(-1, 1, 7)[:, None]
    W1, W2 = net.weights
    aug = lambda A: np.hstack((np.ones((len(A), 1)), A))  # noqa: E731
    np.testing.assert_allclose(net.predict(X), aug(np.tanh(aug(X) @ W1)) @ W2, rtol=1e-14)


def test_same_seed_same_weights_and_scaled_init():
    assert np.array_equal(fg.MLP([2, 8, 1], seed=4).theta, fg.MLP([2, 8, 1], seed=4).theta)
    assert not np.array_equal(fg.MLP([2, 8, 1], seed=4).theta, fg.MLP([2, 8, 1], seed=5).theta)
    net = fg.MLP([400, 300, 1], hidden="relu", init="scaled", seed=0)
    assert np.all(net.weights[0][0] == 0)
    assert np.std(net.weights[0][1:]) == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    glorot = fg.MLP([400, 300, 1], hidden="tanh", init="scaled", seed=0)
    assert np.std(glorot.weights[0][1:]) == pytest.approx(np.sqrt(2 / 700), rel=0.02)


def test_copy_is_independent():
    net = fg.MLP([2, 3, 1], hidden=["sigmoid"], seed=1)
    twin = net.copy()
    twin.theta[0] += 1.0
    assert net.theta[0] != twin.theta[0]
    assert twin.weights[0][0, 0] == twin.theta[0]
    assert twin.hidden == ["sigmoid"] and twin.sizes == [2, 3, 1]


def test_unflatten_aligns_with_weights():
    net = fg.MLP([2, 3, 4, 1], hidden=["relu", "tanh"], seed=0)
    parts = net.unflatten(np.arange(net.n_params, dtype=float))
    assert [p.shape for p in parts] == [W.shape for W in net.weights]
    assert parts[2][0, 0] == net.n_params - 5


def test_softmax_rows_sum_to_one():
    net = fg.MLP([2, 5, 4], output="softmax", seed=0)
    probs = net.predict(np.random.default_rng(0).normal(size=(6, 2)))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-14)


def test_assigning_theta_copies_into_the_model_and_is_checked():
    net = fg.MLP([2, 3, 1], seed=0)
    storage, views = net.theta, net.weights
    new = np.linspace(-1.0, 1.0, net.n_params)
    twin = fg.MLP([2, 3, 1], seed=5)
    twin.set_theta(new)
    net.theta = new
    assert net.theta is storage and np.array_equal(views[0].ravel(), new[:9])
    X, Y = np.array([[0.3, -0.7], [1.0, 2.0]]), np.array([[0.5], [-0.5]])
    assert net.predict(X).tobytes() == twin.predict(X).tobytes()
    assert fg.analytic_gradient(net, X, Y).tobytes() == fg.analytic_gradient(twin, X, Y).tobytes()
    net.theta = list(range(net.n_params))  # a list of numbers is accepted, copied
    assert net.theta is storage and net.theta[-1] == net.n_params - 1
    for bad, message in [(np.zeros(net.n_params + 1), r"theta: expected shape \(13,\), got \(14,\)"),
                         (np.zeros(3), r"theta: expected shape"),
                         (np.zeros(net.n_params, dtype=complex), r"theta: expected real numbers, got dtype complex"),
                         (["a"] * net.n_params, r"theta: expected real numbers"),
                         (np.full(net.n_params, np.inf), r"theta: non-finite value inf at index 0")]:
        with pytest.raises(ValueError, match=message):
            net.theta = bad
        assert net.theta is storage and net.theta[-1] == net.n_params - 1


def test_absurd_sizes_are_refused_before_allocating():
    with pytest.raises(ValueError, match=r"sizes: \[1, 10000000000000000000000, 1\] \(3e\+22 parameters\) "
                                         r"would need 2.4e\+23 bytes of memory"):
        fg.MLP([1, 10 ** 22, 1])
    with pytest.raises(ValueError, match=r"output: softmax over one unit is always 1"):
        fg.MLP([2, 3, 1], output="softmax")


def test_the_public_api_is_annotated():
    """Every public function and method says what it takes and returns (py.typed ships)."""
    import inspect
    functions = [fg.MLP.__init__, fg.MLP.predict, fg.MLP.set_theta, fg.MLP.copy, fg.Problem.__init__,
                 fg.Problem.loss, fg.Problem.analytic_gradient, fg.Problem.numerical_gradient,
                 fg.Problem.gradcheck, fg.analytic_gradient,
                 fg.numerical_gradient, fg.gradcheck, fg.loss, fg.train, fg.hsweep, fg.save_weights,
                 fg.load_weights, fg.set_num_threads, fg.get_num_threads, fg.runtime_info,
                 fg.approx_derivative, fg.check_grad, fg.hessian, fg.hessian_vector_product]
    for f in functions:
        hints = f.__annotations__
        named = [p for p in inspect.signature(f).parameters.values()
                 if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        assert all(p.name in hints for p in named), f.__qualname__
        assert "return" in hints or f.__name__ == "__init__", f.__qualname__


def test_activation_names_come_from_the_registry():
    """Every hidden and output choice builds a net; any other name is refused with the choices."""
    from fastgrad import registry
    for hidden in registry.hidden_choices():
        assert fg.MLP([2, 3, 4], hidden=hidden).hidden == [hidden]
    for output in registry.output_choices():
        assert fg.MLP([2, 3, 4], output=output).output == output
    with pytest.raises(ValueError, match=r"hidden: unknown activation 'softmax'; expected one of tanh, sigmoid, "
                                         r"relu, softplus, identity or a fastgrad.Activation"):
        fg.MLP([2, 3, 4], hidden="softmax")
    with pytest.raises(ValueError, match=r"output: unknown activation 'softplus'"):
        fg.MLP([2, 3, 4], output="softplus")
