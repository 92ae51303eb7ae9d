"""gradcheck's report: pass/fail, per-layer errors and the worst entry."""
import numpy as np
import pytest

import fastgrad as fg
from fastgrad import check
from helpers import make_problem


def test_correct_gradient_passes_with_a_readable_table(seed_net):
    report = fg.gradcheck(*seed_net)
    assert report.passed
    assert [e.layer for e in report.layers] == [1, 2]
    assert [e.shape for e in report.layers] == [(2, 10), (11, 1)]
    assert report.max_rel_error < 1e-6
    text = str(report)
    assert "gradcheck PASSED (full; method=central" in text and "worst entries:" in text
    assert "2x10" in text and "11x1" in text


def test_wrong_analytic_gradient_is_caught_and_located(monkeypatch, seed_net):
    net, X, Y = seed_net
    true_gradient = check.analytic_gradient_of

    def one_wrong_entry(*args, **kwargs):
        g = true_gradient(*args, **kwargs)
        g[23] += 1e-3  # layer 2, row 3, column 0
        return g

    monkeypatch.setattr(check, "analytic_gradient_of", one_wrong_entry)
    report = fg.gradcheck(net, X, Y)
    assert not report.passed
    assert [e.passed for e in report.layers] == [True, False]
    w = report.worst[0]
    assert (w.layer, w.row, w.column) == (2, 3, 0)
    assert len(report.worst) == 5
    assert w.abs_error == pytest.approx(1e-3, rel=1e-4)
    assert "FAILED" in str(report)


@pytest.mark.parametrize("culprit", ["numerical_gradient_of", "analytic_gradient_of"])
def test_a_nan_entry_fails_and_is_shown_first(monkeypatch, seed_net, culprit):
    net, X, Y = seed_net
    true_gradient = getattr(check, culprit)

    def one_nan_entry(*args, **kwargs):
        g = true_gradient(*args, **kwargs)
        g[4] = np.nan  # layer 1, row 0, column 4
        return g

    monkeypatch.setattr(check, culprit, one_nan_entry)
    report = fg.gradcheck(net, X, Y)
    assert not report.passed
    assert [e.passed for e in report.layers] == [False, True]
    assert np.isnan(report.layers[0].max_abs_error) and np.isnan(report.layers[0].max_rel_error)
    assert np.isnan(report.max_abs_error) and np.isnan(report.max_rel_error)
    w = report.worst[0]
    assert (w.layer, w.row, w.column) == (1, 0, 4) and np.isnan(w.rel_error)
    assert "nan" in str(report).splitlines()[2]


def test_relative_error_is_zero_where_both_are_zero():
    assert np.array_equal(check.relative_error(np.array([0.0, 1.0]), np.array([0.0, 3.0])), [0.0, 2.0 / 3.0])


def test_tolerances_are_validated():
    net, X, Y = make_problem([1, 2, 1])
    with pytest.raises(ValueError, match=r"rtol: expected a finite number > 0"):
        fg.gradcheck(net, X, Y, rtol=-1)


def _with_one_wrong_entry(monkeypatch, q, amount):
    true_gradient = check.analytic_gradient_of

    def wrong(*args, **kwargs):
        g = true_gradient(*args, **kwargs)
        g[q] += amount
        return g

    monkeypatch.setattr(check, "analytic_gradient_of", wrong)


def test_fast_mode_passes_a_correct_gradient_with_one_direction(seed_net):
    report = fg.gradcheck(*seed_net, fast=True)
    assert report.passed and report.mode == "fast" and report.layers == []
    a, g = report.directional
    assert abs(a - g) <= 1e-8 + 1e-5 * abs(g)
    assert "random direction" in str(report)


def test_fast_mode_catches_a_wrong_entry_and_falls_back_to_the_full_check(monkeypatch, seed_net):
    _with_one_wrong_entry(monkeypatch, 7, 0.05)  # layer 1, row 0, column 7
    report = fg.gradcheck(*seed_net, fast=True)
    assert not report.passed and report.mode == "fast, then full"
    assert (report.worst[0].layer, report.worst[0].row, report.worst[0].column) == (1, 0, 7)


@pytest.mark.parametrize("method", ["central", "central4", "richardson", "complex-step", "forward"])
def test_gradcheck_with_each_method(seed_net, method):
    report = fg.gradcheck(*seed_net, method=method, rtol=1e-4 if method == "forward" else 1e-6)
    assert report.passed
    # the numbers compared are that method's: its own gradient, entry by entry
    a, g = fg.analytic_gradient(*seed_net), fg.numerical_gradient(*seed_net, method=method)
    expected = np.abs(a - g) / np.maximum(np.abs(a), np.abs(g))
    assert report.relative_errors.tobytes() == expected.tobytes()


def test_top_k_worst_entries_are_ordered(seed_net):
    report = fg.gradcheck(*seed_net, top=3, h=1e-2)
    ratios = [w.abs_error / (1e-8 + 1e-5 * abs(w.numerical)) for w in report.worst]
    assert len(ratios) == 3 and ratios == sorted(ratios, reverse=True)


def test_fast_mode_differences_by_the_method_asked_for(seed_net):
    """forward differences along v are O(h) off, central O(h^2): the fast check's numerical
    directional derivative must show the method's own error."""
    net, X, Y = seed_net
    errors = {}
    for method in ("forward", "central"):
        report = fg.gradcheck(net, X, Y, h=1e-3, method=method, fast=True, rtol=1.0, atol=1.0)
        assert report.mode == "fast" and report.method == method
        a, g = report.directional
        errors[method] = abs(a - g)
    assert errors["forward"] > 30 * errors["central"]
