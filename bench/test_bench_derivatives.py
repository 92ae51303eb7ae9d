"""Derivatives of any function: fastgrad's loops against scipy's (and numdifftools', where
installed) on the same numba-compiled Rosenbrock function, one group per size."""
import numpy as np
import pytest
from numba import njit

import fastgrad as fg


@njit
def rosenbrock(x):
    total = 0.0
    for i in range(x.shape[0] - 1):
        total += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return total


def _scipy_gradient(x):
    from scipy.optimize._numdiff import approx_derivative
    return approx_derivative(rosenbrock, x, method="3-point")


def _numdifftools_hessian(x):
    numdifftools = pytest.importorskip("numdifftools")
    return numdifftools.Hessian(rosenbrock)(x)


GRADIENTS = {
    "scipy 3-point": _scipy_gradient,
    "fastgrad python": lambda x: fg.approx_derivative(rosenbrock, x, backend="python"),
    "fastgrad numba": lambda x: fg.approx_derivative(rosenbrock, x, backend="numba"),
    "fastgrad numba-parallel": lambda x: fg.approx_derivative(rosenbrock, x, backend="numba-parallel"),
}
HESSIANS = {
    "numdifftools Hessian": _numdifftools_hessian,
    "fastgrad numba": lambda x: fg.hessian(rosenbrock, x, backend="numba"),
    "fastgrad numba-parallel": lambda x: fg.hessian(rosenbrock, x, backend="numba-parallel"),
}


@pytest.mark.parametrize("n", [10, 100, 1000])
@pytest.mark.parametrize("name", list(GRADIENTS))
def test_rosenbrock_gradient(record_environment, n, name):
    benchmark = record_environment
    benchmark.group = f"rosenbrock gradient n={n}"
    x = np.linspace(-1.2, 1.2, n)
    GRADIENTS[name](x)  # compile
    result = benchmark(GRADIENTS[name], x)
    expected = _scipy_gradient(x)
    np.testing.assert_allclose(result, expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max())


@pytest.mark.parametrize("name", list(HESSIANS))
def test_rosenbrock_hessian(record_environment, name):
    benchmark = record_environment
    benchmark.group = "rosenbrock hessian n=100"
    x = np.linspace(-1.2, 1.2, 100)
    HESSIANS[name](x)  # compile
    result = benchmark(HESSIANS[name], x)
    assert np.array_equal(result, result.T) or name.startswith("numdifftools")
    assert np.abs(result - fg.hessian(rosenbrock, x, backend="numba")).max() < 1e-4 * np.abs(result).max()
