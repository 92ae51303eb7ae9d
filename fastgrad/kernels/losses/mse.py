"""mse: E = 1/(n p) sum_ij (y_ij - o_ij)^2 (the textbook's numerical notebook), dE/do = 2/(n p)(o - y)."""
from ..jit import helper
from .squared_errors import accumulate, begin, complex_sample, finish, sample  # noqa: F401


@helper
def factor(n, p):
    return 1.0 / (n * p)


@helper
def delta(a, YT, j, i, n, p):
    return (2.0 * (1.0 / (n * p))) * (a - YT[j, i])
