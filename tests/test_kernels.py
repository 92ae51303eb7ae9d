"""Kernel building blocks against numpy references."""
import numpy as np
import pytest

from fastgrad.kernels.elementary import tanh


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
