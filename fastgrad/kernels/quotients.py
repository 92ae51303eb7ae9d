"""The central-difference gradient of a whole difference job in one compiled call: the
default step rule, the job, the quotient (for small nets, a separate call for each of the
three cost more than the arithmetic); the training loop's numerical step pastes the same.

Template: ``differences`` is bound to a difference job (``jobs._difference_job``: the serial job's
template, pasted, or the compiled parallel job, linked).
"""
import numpy as np

from .specialise import entry, template

differences = None  # bound per configuration by specialise()


@template(paste=True)
def central(theta, layout, XT, YT, h, base, entries, n_shares, work, steps, out):
    """out_k = (E(theta + s_k e_q) - E(theta - s_k e_q)) / (2 s_k), q = entries[k], with
    s_k = h, or where h = 0 by the default rule s_k = base max(1, |theta_q|) (gradients/
    methods.py), into ``steps``; the u-table is built for h (base). Returns E(theta)."""
    for k in range(entries.shape[0]):
        steps[k] = h if h > 0.0 else base * max(1.0, abs(theta[entries[k]]))
    loss = differences(theta, layout, XT, YT, steps, 1.0, h if h > 0.0 else base, entries, n_shares, work, out)
    for k in range(entries.shape[0]):
        out[k] = out[k] / (2.0 * steps[k])
    return loss


@entry
def central_gradient(theta, layout, XT, YT, h, base, entries, n_shares, work, steps, out):
    """``central`` as a job of its own (``steps`` shorter than ``entries``: the kernel
    allocates its own)."""
    if steps.shape[0] < entries.shape[0]:
        steps = np.empty(entries.shape[0])
    return central(theta, layout, XT, YT, h, base, entries, n_shares, work, steps, out)
