"""The analytic gradient against the textbook's formulas, and the losses' relation."""
import numpy as np
import pytest

import fastgrad as fg
from helpers import MIXED, make_problem


def textbook_gradient(X, Y, W1, W2):
    """Example 25.3's update_pars, with dW1 back-propagated through the current W2."""
    def aug(A):
        return np.hstack((np.ones((len(A), 1)), A))
    Xt = aug(X)
    Z = np.tanh(Xt @ W1)
    Zt = aug(Z)
    O = Zt @ W2
    G2 = (O - Y) / len(Y)
    dW2 = Zt.T @ G2
    G1 = (G2 @ W2[1:].T) * (1 - Z ** 2)
    dW1 = Xt.T @ G1
    return dW1, dW2


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_matches_textbook_formulas(seed_net, backend):
    net, X, Y = seed_net
    dW1, dW2 = textbook_gradient(X, Y, net.weights[0], net.weights[1])
    g1, g2 = net.unflatten(fg.analytic_gradient(net, X, Y, loss="squared", backend=backend))
    np.testing.assert_allclose(g1, dW1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g2, dW2, rtol=1e-12, atol=1e-15)


def test_textbook_ordering_bug_gives_a_different_gradient(seed_net):
    """The notebook updated W2 before back-propagating through it: that is not the gradient."""
    net, X, Y = seed_net
    W1, W2 = net.weights[0].copy(), net.weights[1].copy()
    dW1, dW2 = textbook_gradient(X, Y, W1, W2)
    stale_W2 = W2 - 0.1 * dW2
    buggy_dW1, _ = textbook_gradient(X, Y, W1, stale_W2)
    g1, _ = net.unflatten(fg.analytic_gradient(net, X, Y))
    assert np.abs(buggy_dW1 - g1).max() > 1e-3 * np.abs(g1).max()
    np.testing.assert_allclose(g1, dW1, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("p", [1, 3])
def test_mse_gradient_is_two_over_p_times_squared(p):
    """mse = 1/(np) sum r^2 and squared = 1/(2n) sum r^2, so mse = (2/p) squared."""
    net, X, Y = make_problem([2, 5, p], n=15, seed=p)
    squared = fg.analytic_gradient(net, X, Y, loss="squared")
    mse = fg.analytic_gradient(net, X, Y, loss="mse")
    np.testing.assert_allclose(mse, (2.0 / p) * squared, rtol=1e-13, atol=1e-16)
    assert fg.loss(net, X, Y, "mse") == pytest.approx((2.0 / p) * fg.loss(net, X, Y, "squared"), rel=1e-14)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_loss_values_match_their_equations(seed_net, backend):
    net, X, Y = seed_net
    O = net.predict(X)
    assert fg.loss(net, X, Y, "squared", backend) == pytest.approx(0.5 * np.sum((Y - O) ** 2) / len(Y), rel=1e-14)
    assert fg.loss(net, X, Y, "mse", backend) == pytest.approx(np.mean((Y - O) ** 2), rel=1e-14)


def test_loss_names_an_unknown_backend(seed_net):
    with pytest.raises(ValueError, match="backend: unknown value 'numba-parallel'; expected one of numba, numpy"):
        fg.loss(*seed_net, backend="numba-parallel")


def test_cross_entropy_is_stable_for_huge_logits():
    net, X, Y = make_problem([2, 3, 3], "tanh", "softmax", n=5)
    net.weights[-1][...] *= 1e4  # logits of order 1e4: a naive softmax overflows
    value = fg.loss(net, X, Y)
    grad = fg.analytic_gradient(net, X, Y)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    probs = net.predict(X)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)


def test_cross_entropy_gradient_with_soft_targets():
    net, X, _ = make_problem([2, 4, 3], "tanh", "softmax", n=9, seed=4)
    Y = np.random.default_rng(0).dirichlet(np.ones(3), size=9) * 2.0  # rows summing to 2
    exact = fg.analytic_gradient(net, X, Y, backend="numba")
    approx = fg.numerical_gradient(net, X, Y, backend="numpy")
    assert np.abs(exact - approx).max() <= 1e-8 * np.abs(exact).max()


@pytest.mark.slow
@pytest.mark.parametrize("sizes,hidden,output,blocks", [
    ([3, 9, 7, 2], "tanh", "identity", (False,)),
    ([4, 6, 5, 5, 3], MIXED, "softmax", (False, True)),  # blocked too: its kernels compile in ~20 s, so one
    ([2, 13, 1], "sigmoid", "sigmoid", (False,)),  # configuration (the training test runs tanh/identity's)
    ([5, 8, 8, 2], "relu", "identity", (False,)),
])
def test_parallel_and_blocked_backprop_equal_serial_bit_for_bit(monkeypatch, restore_threads, sizes, hidden, output,
                                                                blocks):
    """Every layer's units over threads (blocks of four, a partial block at the end), the
    products blocked in registers (products.py) and the plain serial kernel sum the same
    numbers in the same order, and so do the loss kernels; the workspace starts as NaN, so a
    block that read another block's rows (or workspace) before they were written would show."""
    from fastgrad import runtime
    from fastgrad import policy
    from fastgrad.gradients import analytic
    from fastgrad.kernels import products
    from fastgrad.kernels.layers import cache_size
    from fastgrad import Problem
    from fastgrad.runtime import max_threads
    n = 41  # >= 3 max(sizes), as the blocked kernels need; 41 = 5 * 8 + 1, a tail
    net, X, Y = make_problem(sizes, hidden=hidden, output=output, n=n)
    prob = Problem(net, X, Y)
    grads, values = {}, set()
    for parallel in (False, True):
        for blocked in blocks:
            grads[parallel, blocked] = np.empty(net.n_params)
            cache = np.full(cache_size(net.layout, n), np.nan)
            values.add(prob.kernel("backprop", parallel, blocked)(net.theta, net.layout, prob.XT, prob.YT, cache,
                                                                  grads[parallel, blocked]))
            values.add(prob.kernel("loss", blocked)(net.theta, net.layout, prob.XT, prob.YT, cache))
    assert len(values) == 1
    for key in grads:
        assert np.array_equal(grads[key], grads[False, False]), key
    np.testing.assert_allclose(grads[False, False], analytic.numpy_backprop(prob), rtol=1e-12, atol=1e-14)
    monkeypatch.setattr(policy, "BACKPROP_MIN_WORK", 0)
    monkeypatch.setattr(policy, "contended", lambda: False)
    monkeypatch.setattr(products, "BLOCKED_MIN_WORK", 0)
    fg.set_num_threads(max_threads())
    used = []
    monkeypatch.setattr(runtime, "call", lambda kernel, *args: used.append(kernel) or kernel(*args))
    for blocked in blocks:
        prob = Problem(net, X, Y) if blocked else prob  # blocked where the work pays for it (patched)
        assert prob.blocked == blocked
        used.clear()
        assert np.array_equal(prob.analytic_gradient(), grads[False, False])
        assert used == [prob.kernel("backprop", max_threads() > 1, blocked)]  # parallel where there are threads
