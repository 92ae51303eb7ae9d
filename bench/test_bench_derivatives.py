"""Derivatives of any function: fastgrad's loops against scipy's ``approx_derivative`` and
numdifftools' ``Gradient``/``Jacobian``/``Hessian`` (where installed) on the same
numba-compiled function: the Rosenbrock function (vector -> scalar), the Broyden tridiagonal
function (vector -> vector) and the squared loss of a small user-written MLP (its weights as
x), at about 10, 100 and 1000 coordinates."""
import numpy as np
import pytest
from numba import njit

import fastgrad as fg

pytestmark = pytest.mark.slow  # timings, not features: the full tier


@njit
def rosenbrock(x):
    total = 0.0
    for i in range(x.shape[0] - 1):
        total += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return total


def rosenbrock_hessian(x):
    """The Rosenbrock function's Hessian in closed form: tridiagonal, with
    H_ii = 1200 x_i^2 - 400 x_(i+1) + 2 (i < n-1) + 200 (i > 0) and H_i,i+1 = -400 x_i."""
    H = np.zeros((x.size, x.size))
    i = np.arange(x.size - 1)
    H[i, i] += 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    H[i + 1, i + 1] += 200.0
    H[i, i + 1] = H[i + 1, i] = -400.0 * x[:-1]
    return H


@njit
def broyden_tridiagonal(x):
    """f_i = (3 - 2 x_i) x_i - x_(i-1) - 2 x_(i+1) + 1, with x_0 = x_(n+1) = 0."""
    n = x.shape[0]
    f = np.empty(n)
    for i in range(n):
        f[i] = (3.0 - 2.0 * x[i]) * x[i] + 1.0
        if i > 0:
            f[i] -= x[i - 1]
        if i < n - 1:
            f[i] -= 2.0 * x[i + 1]
    return f


_SAMPLES = np.random.default_rng(0).uniform(-2.0, 2.0, size=(200, 2))
_TARGETS = np.sin(_SAMPLES[:, 0]) * np.cos(_SAMPLES[:, 1])


@njit
def mlp_loss(theta, X, y):
    """Mean squared error of a 2-H-1 tanh net whose weights are theta: W1 (3 x H with bias
    row), then w2 (H + 1 with bias), H = (len(theta) - 1) // 4."""
    H = (theta.shape[0] - 1) // 4
    total = 0.0
    for i in range(X.shape[0]):
        out = theta[3 * H]
        for j in range(H):
            z = theta[j] + X[i, 0] * theta[H + j] + X[i, 1] * theta[2 * H + j]
            out += theta[3 * H + 1 + j] * np.tanh(z)
        total += (out - y[i]) ** 2
    return total / X.shape[0]


FUNCTIONS = {"rosenbrock": (rosenbrock, ()), "broyden": (broyden_tridiagonal, ()),
             "mlp-loss": (mlp_loss, (_SAMPLES, _TARGETS))}


def _point(n):
    return np.linspace(-1.2, 1.2, 4 * ((n - 1) // 4) + 1)  # 4H + 1 coordinates: the MLP's too


def _scipy(fun, x, args):
    from scipy.optimize._numdiff import approx_derivative
    return approx_derivative(fun, x, method="3-point", args=args)


def _numdifftools(fun, x, args):
    numdifftools = pytest.importorskip("numdifftools")
    if fun is broyden_tridiagonal:
        return numdifftools.Jacobian(fun)(x, *args)
    return numdifftools.Gradient(fun)(x, *args)


METHODS = {
    "scipy 3-point": _scipy,
    "numdifftools": _numdifftools,
    "fastgrad python": lambda fun, x, args: fg.approx_derivative(fun, x, args=args, backend="python"),
    "fastgrad numba": lambda fun, x, args: fg.approx_derivative(fun, x, args=args, backend="numba"),
    "fastgrad numba-parallel": lambda fun, x, args: fg.approx_derivative(fun, x, args=args,
                                                                         backend="numba-parallel"),
}


@pytest.mark.parametrize("n", [10, 100, 1000])
@pytest.mark.parametrize("function", list(FUNCTIONS))
@pytest.mark.parametrize("name", list(METHODS))
def test_derivative(record_environment, n, function, name):
    benchmark = record_environment
    benchmark.group = f"{function} n={n}"
    fun, args = FUNCTIONS[function]
    x = _point(n)
    METHODS[name](fun, x, args)  # compile
    result = benchmark(METHODS[name], fun, x, args)
    expected = _scipy(fun, x, args)
    tolerance = 1e-6 if name == "numdifftools" else 1e-10  # numdifftools extrapolates: other digits
    np.testing.assert_allclose(result, expected, rtol=0, atol=tolerance * np.abs(expected).max())


HESSIANS = {
    "numdifftools Hessian": lambda x: pytest.importorskip("numdifftools").Hessian(rosenbrock)(x),
    "fastgrad numba": lambda x: fg.hessian(rosenbrock, x, backend="numba"),
    "fastgrad numba-parallel": lambda x: fg.hessian(rosenbrock, x, backend="numba-parallel"),
}


@pytest.mark.parametrize("name", list(HESSIANS))
def test_rosenbrock_hessian(record_environment, name):
    benchmark = record_environment
    benchmark.group = "rosenbrock hessian n=100"
    x = np.linspace(-1.2, 1.2, 100)
    HESSIANS[name](x)  # compile
    result = benchmark(HESSIANS[name], x)
    exact = rosenbrock_hessian(x)
    assert np.abs(result - exact).max() <= 1e-7 * np.abs(exact).max()  # fastgrad: 3.8e-8, numdifftools: 3e-14
