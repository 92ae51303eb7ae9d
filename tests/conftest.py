import os

import numpy as np
import pytest


def _cpus():
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on this platform
        return os.cpu_count() or 1


# Tests of "two threads" run two threads on a one-CPU runner too: numba starts the threads
# NUMBA_NUM_THREADS says, read when numba is imported (so before fastgrad is).
if _cpus() < 2:
    os.environ.setdefault("NUMBA_NUM_THREADS", "2")

import fastgrad as fg  # noqa: E402  (after NUMBA_NUM_THREADS is settled)
from fastgrad.runtime import max_threads  # noqa: E402


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


@pytest.fixture
def two_threads(force_threads):
    """Run "numba-parallel" on two threads, whatever the problem's size; skipped where numba was
    started with one (NUMBA_NUM_THREADS=1), never run on one thread in silence."""
    if max_threads() < 2:
        pytest.skip("numba was started with one thread (NUMBA_NUM_THREADS=1): two threads cannot run")
    fg.set_num_threads(2)

