"""softplus, the built-in added through the registry: its formulas in extended precision and
its gradients by every strategy; and tanh's and sigmoid's changes through tilted_change."""
import numpy as np
import pytest

import fastgrad as fg
from fastgrad.activations import CODES
from fastgrad.kernels.activations import sigmoid, softplus, tanh
from fastgrad.kernels.elementary import SMALL, tanh_near_zero, tilted_change
from helpers import make_problem, scaled_error

LONG = pytest.mark.skipif(np.finfo(np.longdouble).nmant <= 52, reason="needs an extended-precision long double")
CODE = CODES["softplus"]


def _softplus_long(z):
    z = np.asarray(z, dtype=np.longdouble)
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _ulps(ours, exact):
    return np.abs(np.asarray(ours, dtype=np.longdouble) - exact) / np.spacing(np.abs(exact).astype(np.float64))


@LONG
def test_softplus_values_and_slopes_within_two_ulp_of_the_exact_value():
    zs = np.concatenate([np.linspace(-40, 40, 4001), -np.logspace(-300, 2.8, 500), np.logspace(-300, 2.8, 500)])
    A = np.empty((1, zs.size))
    softplus.activate(CODE, zs[None, :], A, np.empty(zs.size))
    exact = _softplus_long(zs)
    assert _ulps(A[0], exact).max() <= 2.0
    sigma = 1 / (1 + np.exp(-zs.astype(np.longdouble)))
    slopes = np.array([softplus.times_slope(CODE, 1.0, z, a) for z, a in zip(zs, A[0])])
    assert _ulps(slopes, sigma).max() <= 2.0


@LONG
def test_softplus_change_within_a_few_ulp_of_the_exact_change():
    """log1p(sigmoid(z) expm1(d)) from the cached a = f(z), against f(z + d) - f(z) formed in
    extended precision by the same identity (no subtraction), over |d| <= SMALL."""
    magnitudes = np.logspace(-14, np.log10(SMALL), 40)
    worst = 0.0
    for z in np.concatenate([np.linspace(-30, 30, 61), [-700.0, 700.0]]):
        a = float(_softplus_long(z))
        for d in np.concatenate([magnitudes, -magnitudes]):
            sigma = 1 / (1 + np.exp(-np.longdouble(z)))
            exact = np.log1p(sigma * np.expm1(np.longdouble(d)))
            worst = max(worst, float(_ulps(softplus.change(CODE, z, a, d), exact)))
    assert worst <= 4.0


def test_softplus_large_changes_and_the_complex_step():
    for z, d in ((0.3, 5.0), (-20.0, -3.0), (30.0, 2.0), (2.0, -40.0)):
        exact = float(_softplus_long(np.longdouble(z) + np.longdouble(d)) - _softplus_long(z))
        assert softplus.change(CODE, z, float(_softplus_long(z)), d) == pytest.approx(exact, rel=1e-14)
    for z in (-800.0, -30.0, -1.0, 0.0, 2.5, 30.0, 800.0):
        value = softplus.complex_value(CODE, complex(z, 1e-20))
        assert value.real == pytest.approx(float(_softplus_long(z)), rel=1e-15)
        assert value.imag / 1e-20 == pytest.approx(float(1 / (1 + np.exp(-np.longdouble(z)))), rel=1e-15)


@pytest.mark.parametrize("module,name", [(tanh, "tanh"), (sigmoid, "sigmoid")])
def test_small_changes_are_the_tilted_change(module, name):
    """tanh's and sigmoid's change below SMALL is s / (1 + t u), written once."""
    code, scale = CODES[name], module.u_scale(CODES[name])
    for a in (np.linspace(-0.99, 0.99, 9) if name == "tanh" else np.linspace(0.01, 0.99, 9)):
        for d in (1e-9, -3e-4, 0.5):
            u = tanh_near_zero(scale * d)
            t, s = module.tilt(code, a, u)
            assert module.change(code, 0.0, a, d) == tilted_change(t, s, u) == s / (1.0 + t * u)


@pytest.mark.parametrize("sizes", [[3, 5, 2], pytest.param([2, 4, 3, 2], marks=pytest.mark.slow)],
                         ids=["one-hidden", "two-hidden"])
def test_softplus_gradients_agree_by_every_strategy(sizes):
    """Backprop (numba and numpy) and central differences (incremental, exact changes: ~1e-13;
    the plain-Python and numpy baselines), on small nets."""
    net, X, Y = make_problem(sizes, "softplus", "sigmoid", n=15, seed=4)
    exact = fg.analytic_gradient(net, X, Y)
    np.testing.assert_allclose(fg.analytic_gradient(net, X, Y, backend="numpy"), exact, rtol=1e-12, atol=1e-15)
    incremental = fg.numerical_gradient(net, X, Y, strategy="incremental", backend="numba")
    assert scaled_error(incremental, exact) <= 1e-13
    for baseline in ("python", "numpy"):
        assert scaled_error(fg.numerical_gradient(net, X, Y, backend=baseline), exact) <= 1e-8


@pytest.mark.slow
def test_softplus_full_differences_and_the_complex_step():
    net, X, Y = make_problem([3, 5, 2], "softplus", "sigmoid", n=15, seed=4)
    exact = fg.analytic_gradient(net, X, Y)
    assert scaled_error(fg.numerical_gradient(net, X, Y, strategy="full", backend="numba"), exact) <= 1e-8
    assert scaled_error(fg.numerical_gradient(net, X, Y, method="complex-step", backend="numba"), exact) <= 1e-14


@pytest.mark.slow
def test_softplus_mixes_with_the_other_hidden_activations():
    # softmax and cross-entropy: the mixed kernels of the gradient tests, so nothing compiles for this test alone
    net, X, Y = make_problem([2, 4, 3, 3, 2], ["softplus", "tanh", "relu"], "softmax", n=10, seed=6)
    exact = fg.analytic_gradient(net, X, Y, loss="cross-entropy")
    numerical = fg.numerical_gradient(net, X, Y, loss="cross-entropy", strategy="incremental", backend="numba")
    assert scaled_error(numerical, exact) <= 1e-13
