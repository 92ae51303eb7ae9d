"""Numerical and analytic gradients agree for every depth, activation, loss and backend."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fastgrad as fg
from helpers import HIDDEN, MIXED, cases, make_problem, min_abs_preactivation, scaled_error

NUMERICAL_BACKENDS = ["python", "numpy", "numba", "numba-parallel"]


def _problem(sizes, hidden, output):
    net, X, Y = make_problem(sizes, hidden, output)
    if "relu" in net.hidden:
        assert min_abs_preactivation(net, X) > 1e-3, "test data must stay away from relu's kink"
    return net, X, Y


def _backends_and_cases():
    """cases() on every backend; the deep mixed net's parallel row joins the full tier (its
    parallel kernels are the costliest compile; the textbook net keeps parallel == serial in the
    quick tier)."""
    return [pytest.param(backend, *case.values, id=f"{backend}-{case.id}",
                         marks=pytest.mark.slow if case.marks or (backend == "numba-parallel" and case.values[1] == MIXED)
                         else ())
            for case in cases() for backend in NUMERICAL_BACKENDS]


@pytest.mark.parametrize("backend,sizes,hidden,output,loss", _backends_and_cases())
def test_numerical_matches_analytic(request, sizes, hidden, output, loss, backend):
    """Central differences at h = 1e-5 against backprop, entry by entry, within 1e-9 of the
    largest entry (the worst case here is 2.5e-10); "numba-parallel" on two threads, with the
    serial kernel's bits."""
    if backend == "numba-parallel":
        request.getfixturevalue("two_threads")
    net, X, Y = _problem(sizes, hidden, output)
    exact = fg.analytic_gradient(net, X, Y, loss=loss, backend="numpy")
    approx = fg.numerical_gradient(net, X, Y, loss=loss, h=1e-5, backend=backend)
    assert approx.shape == net.theta.shape
    np.testing.assert_allclose(approx, exact, rtol=0, atol=1e-9 * np.abs(exact).max())
    if backend == "numba-parallel":
        serial = fg.numerical_gradient(net, X, Y, loss=loss, h=1e-5, backend="numba")
        assert approx.tobytes() == serial.tobytes()


@pytest.mark.parametrize("sizes,hidden,output,loss", cases())
def test_default_incremental_gradient_equals_backprop_to_rounding(sizes, hidden, output, loss):
    """The default numerical gradient (incremental: every change of the loss formed without
    cancellation, so the step can be eps^(1/2), where the truncation falls below the round-off)
    equals backprop to 1e-13 of the largest entry in every configuration."""
    net, X, Y = _problem(sizes, hidden, output)
    exact = fg.analytic_gradient(net, X, Y, loss=loss, backend="numpy")
    assert scaled_error(fg.numerical_gradient(net, X, Y, loss=loss, backend="numba"), exact) <= 1e-13


@pytest.mark.parametrize("sizes,hidden,output,loss", cases())
def test_analytic_backends_agree(sizes, hidden, output, loss):
    net, X, Y = make_problem(sizes, hidden, output)
    reference = fg.analytic_gradient(net, X, Y, loss=loss, backend="numpy")
    compiled = fg.analytic_gradient(net, X, Y, loss=loss, backend="numba")
    np.testing.assert_allclose(compiled, reference, rtol=1e-12, atol=1e-15 * np.abs(reference).max())


@pytest.mark.slow
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
