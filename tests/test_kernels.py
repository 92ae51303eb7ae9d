"""Kernel building blocks against numpy references."""
import numpy as np
import pytest

from fastgrad.kernels.elementary import sigmoid_into, tanh, tanh_into


@pytest.mark.parametrize("xs", [
    np.random.default_rng(0).normal(scale=3.0, size=20000),
    np.logspace(-300, 3, 5000),
    -np.logspace(-20, 1, 5000),
    np.linspace(0.6, 0.65, 5000),  # around the switch between the two formulas
], ids=["normal", "tiny-to-huge", "negative", "switch"])
def test_tanh_within_two_ulp(xs):
    ours = np.array([tanh(x) for x in xs])
    exact = np.tanh(xs)
    assert np.max(np.abs(ours - exact) / np.spacing(np.abs(exact))) <= 2.0


def test_tanh_special_values():
    assert tanh(0.0) == 0.0 and np.signbit(tanh(-0.0))
    assert tanh(np.inf) == 1.0 and tanh(-np.inf) == -1.0 and tanh(800.0) == 1.0


@pytest.mark.parametrize("xs", [
    np.random.default_rng(1).normal(scale=4.0, size=5000),
    np.concatenate([-np.logspace(-300, 2.8, 2000), np.logspace(-300, 2.8, 2000)]),
    np.linspace(0.6, 0.65, 1001),
    np.linspace(-0.7, 0.7, 100001),  # the rational fit, densely (a form with a worse rounding reached 3 ulp)
], ids=["normal", "wide", "switch", "near-zero"])
def test_vectorised_tanh_and_sigmoid(xs):
    out, scratch = np.empty_like(xs), np.empty_like(xs)
    tanh_into(xs, out, scratch)
    exact = np.tanh(xs)
    assert np.max(np.abs(out - exact) / np.spacing(np.abs(exact))) <= 2.0
    sigmoid_into(xs, out, scratch)
    exact = 1.0 / (1.0 + np.exp(-xs))
    assert np.max(np.abs(out - exact) / np.spacing(exact)) <= 4.0


@pytest.mark.skipif(np.finfo(np.longdouble).nmant <= 52, reason="needs an extended-precision long double")
def test_vectorised_tanh_within_its_documented_error_of_the_exact_value():
    xs = np.concatenate([np.linspace(-0.7, 0.7, 100001), np.linspace(0.6, 20.0, 100001),
                         np.random.default_rng(2).normal(scale=3.0, size=100000)])
    out, scratch = np.empty_like(xs), np.empty_like(xs)
    tanh_into(xs, out, scratch)
    exact = np.tanh(xs.astype(np.longdouble))
    ulps = np.abs(out.astype(np.longdouble) - exact) / np.spacing(np.abs(exact).astype(np.float64))
    assert float(ulps.max()) <= 1.3


@pytest.mark.parametrize("rows,units,n", [(1, 1, 3), (4, 4, 8), (5, 7, 9), (3, 10, 5), (64, 8, 33), (17, 6, 25)])
@pytest.mark.parametrize("transposed", [False, True], ids=["C", "transposed-C"])
def test_blocked_products_equal_the_plain_loop_bit_for_bit(rows, units, n, transposed):
    from fastgrad.kernels.products import add_products
    rng = np.random.default_rng(rows * units + n)
    A = rng.normal(size=(rows, n))
    C = rng.normal(size=(units, rows)).T if transposed else rng.normal(size=(rows, units))
    start = rng.normal(size=(units, n))
    plain = start.copy()
    for r in range(rows):  # for u, for r, for i: B[u, i] += A[r, i] C[r, u], as numpy's ufuncs round it
        plain = plain + np.outer(C[r], A[r])
    blocked = start.copy()
    add_products(A, C, blocked)
    assert np.array_equal(blocked, plain)


@pytest.mark.slow
@pytest.mark.parametrize("rows,units,n", [(1, 1, 3), (3, 10, 7), (5, 7, 8), (9, 4, 41), (17, 6, 100), (4, 16, 64)])
def test_blocked_row_dots_equal_the_interleaved_dot_bit_for_bit(rows, units, n):
    """row_dots (D dealt out, eight partial products, their sums) against dot, entry by entry,
    for the whole rows and for a block of them (as a parallel kernel deals them out)."""
    from fastgrad.kernels.products import deal_columns, dot, row_dots
    rng = np.random.default_rng(rows + units + n)
    A, D = rng.normal(size=(rows, n)), rng.normal(size=(units, n))
    expected = np.array([[dot(A, r, D, j) for j in range(units)] for r in range(rows)])
    DT = np.full(n * units, np.nan)
    deal_columns(D, DT)
    assert not np.isnan(DT).any()
    G, spare = np.full((rows, units), np.nan), np.full(3 * rows * units, np.nan)
    row_dots(A, DT, G, spare, 0, rows)
    assert np.array_equal(G, expected)
    first, stop = rows // 3, rows - rows // 4
    block = np.full((stop - first, units), np.nan)
    row_dots(A, DT, block, spare, first, stop)
    assert np.array_equal(block, expected[first:stop])
    np.testing.assert_allclose(G, A @ D.T, rtol=1e-12, atol=1e-12 * np.abs(A).max() * np.abs(D).max() * n)


def test_blocked_products_pay_off_for_large_problems_only():
    from fastgrad.kernels.products import blocked_pays_off
    assert not blocked_pays_off(25, 31, [1, 10, 1])  # the textbook size
    assert blocked_pays_off(1000, 836, [8, 64, 4]) and blocked_pays_off(1000, 22026, [32, 128, 128, 10])
    assert not blocked_pays_off(300, 95_410, [784, 120, 10])  # n < 3 max(sizes): the workspace is short


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_tiny_changes_are_the_exact_changes_to_rounding(name):
    """_tiny_change's Taylor polynomial against the cancellation-free change g u / (1 + t u),
    u = tanh v, in extended precision, over the whole range where it is used (|v| <= TINY)."""
    from fastgrad.activations import CODES
    from fastgrad.kernels import activations, incremental
    from fastgrad.kernels.specialise import specialise
    module = getattr(activations, name)
    tiny = specialise(incremental._tiny_change, (("hidden", module),), inline=True)
    code = CODES[name]
    a_values = np.linspace(-0.999, 0.999, 41) if name == "tanh" else np.linspace(0.001, 0.999, 41)
    magnitudes = np.logspace(-14, np.log10(incremental.TINY), 30)
    vs = np.concatenate([magnitudes, -magnitudes])
    worst = 0.0
    for a in a_values:
        t, g = (a, 1.0 - a * a) if name == "tanh" else (2.0 * a - 1.0, 2.0 * a * (1.0 - a))
        for v in vs:
            u = np.tanh(np.longdouble(v))
            exact = np.longdouble(g) * u / (1 + np.longdouble(t) * u)
            ours = tiny(code, a, v)
            worst = max(worst, float(abs(np.longdouble(ours) - exact) / np.spacing(abs(float(exact)))))
    assert worst <= 2.0
