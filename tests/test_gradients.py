"""Numerical and analytic gradients agree for every depth, activation, loss and backend."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fastgrad as fg
from helpers import ARCHITECTURES, CONFIGURATIONS, HIDDEN, make_problem, min_abs_preactivation

NUMERICAL_BACKENDS = ["python", "numpy", "numba", "numba-parallel"]


@pytest.mark.parametrize("sizes", ARCHITECTURES, ids=lambda s: f"{len(s) - 2}hidden")
@pytest.mark.parametrize("hidden,output,loss", CONFIGURATIONS)
@pytest.mark.parametrize("backend", NUMERICAL_BACKENDS)
def test_numerical_matches_analytic(sizes, hidden, output, loss, backend):
    net, X, Y = make_problem(sizes, hidden, output)
    if "relu" in net.hidden:
        assert min_abs_preactivation(net, X) > 1e-3, "test data must stay away from relu's kink"
    exact = fg.analytic_gradient(net, X, Y, loss=loss, backend="numpy")
    approx = fg.numerical_gradient(net, X, Y, loss=loss, h=1e-5, backend=backend)
    assert approx.shape == net.theta.shape
    # entry by entry, at what the README promises (~1e-10; the worst case here is 2.5e-10 of max |g|)
    np.testing.assert_allclose(approx, exact, rtol=1e-7, atol=1e-9 * np.abs(exact).max())


@pytest.mark.parametrize("sizes", ARCHITECTURES, ids=lambda s: f"{len(s) - 2}hidden")
@pytest.mark.parametrize("hidden,output,loss", CONFIGURATIONS)
def test_analytic_backends_agree(sizes, hidden, output, loss):
    net, X, Y = make_problem(sizes, hidden, output)
    reference = fg.analytic_gradient(net, X, Y, loss=loss, backend="numpy")
    compiled = fg.analytic_gradient(net, X, Y, loss=loss, backend="numba")
    np.testing.assert_allclose(compiled, reference, rtol=1e-12, atol=1e-15 * np.abs(reference).max())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5),
       hidden=st.sampled_from(HIDDEN),
       n=st.integers(1, 15), seed=st.integers(0, 2**32 - 1))
def test_random_architectures_agree(sizes, hidden, n, seed):
    net, X, Y = make_problem(sizes, hidden, "identity", n=n, seed=seed)
    if hidden == "relu" and len(sizes) > 2:
        assume(min_abs_preactivation(net, X) > 1e-3)
    exact = fg.analytic_gradient(net, X, Y)
    assume(np.abs(exact).max() > 1e-6)
    approx = fg.numerical_gradient(net, X, Y, backend="numba")
    np.testing.assert_allclose(approx, exact, rtol=1e-6, atol=1e-8 * np.abs(exact).max())
