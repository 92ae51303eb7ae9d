"""Banded Jacobians at n = 100,000 (``sparse_vs_scipy.py``'s residuals): fastgrad's sparse
``approx_derivative`` on each compiled backend against scipy's, given the same structure.
Run: ``pytest bench/test_bench_sparse.py --benchmark-only``."""
import numpy as np
import pytest
from scipy import sparse
from scipy.optimize._numdiff import approx_derivative as scipy_approx_derivative
from sparse_vs_scipy import five_band_cubic, five_band_sine, tridiagonal

import fastgrad as fg

N = 100_000
RESIDUALS = {"tridiagonal": (tridiagonal, 1), "5-band cubic": (five_band_cubic, 2), "5-band sine": (five_band_sine, 2)}
RUNNERS = {
    "scipy": lambda fun, x, method, structure: scipy_approx_derivative(fun, x, method=method, sparsity=structure),
    "fastgrad numba": lambda fun, x, method, structure: fg.approx_derivative(fun, x, method=method,
                                                                             sparsity=structure, backend="numba"),
    "fastgrad numba-parallel": lambda fun, x, method, structure: fg.approx_derivative(
        fun, x, method=method, sparsity=structure, backend="numba-parallel"),
}


@pytest.mark.parametrize("runner", list(RUNNERS))
@pytest.mark.parametrize("method", ["2-point", "3-point"])
@pytest.mark.parametrize("residual", list(RESIDUALS))
def test_banded_jacobian(record_environment, residual, method, runner):
    fun, width = RESIDUALS[residual]
    offsets = list(range(-width, width + 1))
    structure = sparse.diags([np.ones(N - abs(d)) for d in offsets], offsets, format="csr")
    x = np.linspace(-1.0, 1.0, N)
    benchmark = record_environment
    benchmark.group = f"{residual} {method} n={N}"
    J = benchmark(RUNNERS[runner], fun, x, method, structure)
    assert (J != scipy_approx_derivative(fun, x, method=method, sparsity=structure)).nnz == 0  # the same bits
