"""Time of one training step of the textbook's two examples, every backend side by side.

Compiled backends are timed over a run of steps and scaled to one step (extra_info
``scale``); the others time one gradient step directly.
"""
import numpy as np
import pytest

from fastgrad.benchmark import training_cases

pytestmark = pytest.mark.slow  # timings, not features: the full tier

CASES = [case for name in ("seed", "seed-analytic") for case in training_cases(name)]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.group}:{c.name}" for c in CASES])
def test_training_step(record_environment, case):
    benchmark = record_environment
    benchmark.group = case.group
    benchmark.extra_info.update(case=case.name, scale=case.scale, n_params=case.n_params)
    case.run()  # warm-up: compile
    benchmark(case.run)
    out = case.run()
    assert np.all(np.isfinite(getattr(out, "losses", out)))
    if hasattr(out, "losses"):  # the compiled run timed is descent: its loss falls
        assert out.steps_done > 1 and out.losses[-1] < out.losses[0]
