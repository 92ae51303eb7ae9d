"""Squared errors, shared by "squared" and "mse", which differ only in their factors:

    l_i = sum_j (o_ij - y_ij)^2,
    l_i(+) - l_i(-) = sum_j (do+_j - do-_j)(2 (o_j - y_j) + do+_j + do-_j)

for output changes do+ and do- (the second factor formed from changes, so nothing
nearly equal is subtracted).
"""
from ..jit import helper


@helper
def sample(Z, A, YT, i):
    s = 0.0
    for j in range(YT.shape[0]):
        r = A[j, i] - YT[j, i]
        s += r * r
    return s


@helper
def begin(diff, acc):
    for i in range(diff.shape[0]):
        diff[i] = 0.0


@helper
def accumulate(a, y, dp, dm, i, diff, acc):
    diff[i] += (dp - dm) * (2.0 * (a - y) + dp + dm)


@helper
def finish(mass, diff, acc):
    pass


@helper
def complex_sample(A, YT, i):
    s = 0.0j
    for j in range(YT.shape[0]):
        r = A[j, i] - YT[j, i]
        s += r * r
    return s
