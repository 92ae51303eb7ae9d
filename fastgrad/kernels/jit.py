"""The one way kernels are compiled: cached on disk, with numpy's floating-point error model.

error_model="numpy" lets a division by zero give inf or nan instead of raising, which
removes a branch from every division and lets the compiler vectorise the loops.
"""
from numba import njit


def kernel(function=None, **options):
    """``@kernel`` or ``@kernel(parallel=True, inline="always")``: njit with fastgrad's settings."""
    settings = {"cache": True, "error_model": "numpy", **options}
    if function is None:
        return njit(**settings)
    return njit(**settings)(function)
