"""A problem's finiteness check, compiled: one call for X, Y and theta, where numpy's check
costs about a microsecond per array (a third of building a Problem at the textbook size).
"""
from .jit import helper, kernel


@helper
def _zero_if_finite(x):
    """0 for a finite x; NaN for NaN or +-inf (inf - inf is NaN)."""
    return x - x


@helper
def _matrix_zeros(A):
    """sum of (a - a) over a matrix: 0 exactly when every entry is finite."""
    total = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            total += _zero_if_finite(A[i, j])
    return total


@kernel(borrowing=True)
def all_finite(X, Y, theta):
    """Whether every entry of the matrices X, Y and the vector theta is finite."""
    total = _matrix_zeros(X) + _matrix_zeros(Y)
    for q in range(theta.shape[0]):
        total += _zero_if_finite(theta[q])
    return total == 0.0
