"""relu: f(z) = max(z, 0), f' = [z > 0]; not analytic at 0, so no complex step."""
from ..jit import helper
from .identity import u_scale  # noqa: F401 (no u-table, as identity)


@helper
def activate(code, Z, A, scratch):
    for j in range(Z.shape[0]):
        for i in range(Z.shape[1]):
            A[j, i] = Z[j, i] if Z[j, i] > 0.0 else 0.0


@helper
def times_slope(code, d, z, a):
    return d if a > 0.0 else 0.0


@helper
def change(code, z, a, d):
    if z > 0.0 and z + d > 0.0:
        return d
    return max(z + d, 0.0) - max(z, 0.0)
