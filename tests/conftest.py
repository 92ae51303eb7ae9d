import numpy as np
import pytest

import fastgrad as fg


@pytest.fixture
def seed_net():
    """The textbook's shape: sizes [1, 10, 1], tanh, identity output, sin(x) targets."""
    rng = np.random.default_rng(11)
    X = rng.uniform(-np.pi, np.pi, size=(25, 1))
    return fg.MLP([1, 10, 1], seed=11), X, np.sin(X)


@pytest.fixture
def restore_threads():
    before = fg.get_num_threads()
    yield
    fg.set_num_threads(before)


@pytest.fixture
def force_threads(monkeypatch, restore_threads):
    """Make "numba-parallel" use its threads even on problems too small for them to pay off, and
    whatever else keeps this machine's cores busy (policy.contended)."""
    from fastgrad import policy
    monkeypatch.setattr(policy, "NUMERICAL_MIN_WORK", 0)
    monkeypatch.setattr(policy, "contended", lambda: False)
