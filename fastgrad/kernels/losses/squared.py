"""squared: E = (1/n) sum_i 1/2 ||y_i - o_i||^2 (the textbook's), dE/do = (1/n)(o - y)."""
from ..jit import helper
from .squared_errors import accumulate, begin, complex_sample, finish, sample  # noqa: F401


@helper
def factor(n, p):
    return 0.5 * (1.0 / n)


@helper
def delta(a, YT, j, i, n, p):
    return (1.0 / n) * (a - YT[j, i])
