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
], ids=["normal", "wide", "switch"])
def test_vectorised_tanh_and_sigmoid(xs):
    out, bits = np.empty_like(xs), np.empty(xs.size, dtype=np.int64)
    tanh_into(xs, out, bits)
    exact = np.tanh(xs)
    assert np.max(np.abs(out - exact) / np.spacing(np.abs(exact))) <= 2.0
    sigmoid_into(xs, out, bits)
    exact = 1.0 / (1.0 + np.exp(-xs))
    assert np.max(np.abs(out - exact) / np.spacing(exact)) <= 4.0
