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
    assert "gradcheck PASSED" in text and "worst entry: layer" in text
    assert "2x10" in text and "11x1" in text


def test_wrong_analytic_gradient_is_caught_and_located(monkeypatch, seed_net):
    net, X, Y = seed_net
    true_gradient = check.analytic_gradient

    def one_wrong_entry(*args, **kwargs):
        g = true_gradient(*args, **kwargs)
        g[23] += 1e-3  # layer 2, row 3, column 0
        return g

    monkeypatch.setattr(check, "analytic_gradient", one_wrong_entry)
    report = fg.gradcheck(net, X, Y)
    assert not report.passed
    assert [e.passed for e in report.layers] == [True, False]
    w = report.worst
    assert (w.layer, w.row, w.column) == (2, 3, 0)
    assert w.abs_error == pytest.approx(1e-3, rel=1e-4)
    assert "FAILED" in str(report)


def test_relative_error_is_zero_where_both_are_zero():
    assert np.array_equal(check.relative_error(np.array([0.0, 1.0]), np.array([0.0, 3.0])), [0.0, 2.0 / 3.0])


def test_tolerances_are_validated():
    net, X, Y = make_problem([1, 2, 1])
    with pytest.raises(ValueError, match=r"rtol: expected a finite number > 0"):
        fg.gradcheck(net, X, Y, rtol=-1)
