"""The two array steps around a central-difference job, compiled (for small nets, numpy's
per-call cost for them exceeded the arithmetic): the default step rule and the quotient.
"""
from .jit import kernel


@kernel
def default_steps(theta, base, steps):
    """steps_q = base max(1, |theta_q|) (the step rule of gradients/methods.py)."""
    for q in range(theta.shape[0]):
        steps[q] = base * max(1.0, abs(theta[q]))


@kernel
def central_quotients(differences, steps):
    """differences_q <- differences_q / (2 steps_q), in place (combine's central rule)."""
    for q in range(differences.shape[0]):
        differences[q] = differences[q] / (2.0 * steps[q])
