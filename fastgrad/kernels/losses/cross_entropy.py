"""cross-entropy: E = (1/n) sum_ij -y_ij log softmax(z_i)_j, in the logits z:

    l_i = m_i logsumexp(z_i) - sum_j y_ij z_ij,          m_i = sum_j y_ij,
    dE/dz_ij = (1/n)(p_ij m_i - y_ij),                    p = softmax(z),
    l_i(+) - l_i(-) = m_i (log1p(sum_j p_j expm1(dz+_j)) - log1p(sum_j p_j expm1(dz-_j)))
                      - sum_j y_j (dz+_j - dz-_j)

for logit changes dz+ and dz- (log1p and expm1: no cancellation for small changes).
"""
import cmath
import math

from ..jit import helper


@helper
def factor(n, p):
    return 1.0 / n


@helper
def sample(Z, A, YT, i):
    p = YT.shape[0]
    top = Z[0, i]
    for j in range(1, p):
        top = max(top, Z[j, i])
    e = 0.0
    for j in range(p):
        e += math.exp(Z[j, i] - top)
    lse = top + math.log(e)
    s = 0.0
    for j in range(p):
        s += YT[j, i] * (lse - Z[j, i])
    return s


@helper
def delta(a, YT, j, i, n, p):
    mass = 0.0
    for k in range(p):
        mass += YT[k, i]
    return (1.0 / n) * (a * mass - YT[j, i])


@helper
def begin(diff, acc):
    for i in range(diff.shape[0]):
        diff[i] = 0.0
        acc[0, i] = 0.0
        acc[1, i] = 0.0


@helper
def accumulate(a, y, dp, dm, i, diff, acc):
    acc[0, i] += a * math.expm1(dp)
    acc[1, i] += a * math.expm1(dm)
    diff[i] -= y * (dp - dm)


@helper
def finish(mass, diff, acc):
    for i in range(diff.shape[0]):
        diff[i] += mass[i] * (math.log1p(acc[0, i]) - math.log1p(acc[1, i]))


@helper
def complex_sample(A, YT, i):
    p = YT.shape[0]
    top = A[0, i].real
    for j in range(1, p):
        top = max(top, A[j, i].real)
    s = 0.0j
    for j in range(p):
        s += cmath.exp(A[j, i] - top)
    lse = top + cmath.log(s)
    total = 0.0j
    for j in range(p):
        total += YT[j, i] * (lse - A[j, i])
    return total
