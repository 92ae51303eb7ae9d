"""What an optimizer adds to a training step at the textbook's size ([1, 10, 1], 25 samples).

Each case runs the compiled training kernel for STEPS steps of one gradient (analytic or
numerical) and one optimizer; the optimizer's cost per step is its case's time minus plain
descent's (sgd), over STEPS, to be read against the gradient's time per step (the sgd case:
its update is P multiply-subtracts).
"""
import numpy as np
import pytest

from fastgrad import datasets, policy, rules
from fastgrad.kernels import jobs
from fastgrad.optimizers import NAMES, optimizer
from fastgrad.problem import problem

STEPS = 2000


def kernel_run(gradient, name):
    """A function running STEPS steps of the kernel from the seed example's weights."""
    ex = datasets.seed_numerical_example()
    prob = problem(ex.net, ex.data.X, ex.data.Y, ex.loss)
    chosen = optimizer(name)
    kernel = jobs.training_kernel(prob.formulas, gradient, "incremental", False, False, chosen.module)
    theta0 = ex.net.theta.copy()
    base = rules.base_step("central", prob.exact_changes)
    batches = np.zeros((0, 0), dtype=np.int64)

    def run():
        theta = theta0.copy()
        losses = np.empty(STEPS)
        done = kernel(theta, ex.net.layout, prob.XT, prob.YT, 0.01, 0.0, base, batches, policy.shares(policy.NUMBA),
                      np.inf, theta0.copy(), losses, chosen.settings(), chosen.state(theta.size))
        return done, losses
    return run


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("gradient", ["analytic", "numerical"])
def test_optimizer_steps(record_environment, gradient, name):
    benchmark = record_environment
    benchmark.group = f"optimizers: {gradient} gradient, textbook size, {STEPS} steps"
    benchmark.extra_info.update(optimizer=name, gradient=gradient, steps=STEPS)
    run = kernel_run(gradient, name)
    run()  # compile, or load
    done, losses = benchmark(run)
    assert done == STEPS and losses[-1] < losses[0]
