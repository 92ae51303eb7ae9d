"""The slow baselines, kept honest: what the compiled backends are measured against.

``python_differences``: plain Python loops over lists with ``math``, no numpy in the
inner work. ``numpy_differences``: the textbook notebook's way, a Python loop over
parameters with a numpy forward pass for every loss evaluation. Both compute
E(theta + s_k e_q) - E(theta - m s_k e_q) for each requested entry q (m = 1 for a
symmetric pair; m = 0 subtracts E(theta) itself), as the compiled kernels do.
"""
import math

import numpy as np

from .. import losses
from ..custom import Activation, Loss
from ..registry import ACTIVATION, LOSS


def _scalar_activation(activation):
    """f of one float: its record's, or a custom Activation's compiled value."""
    return activation.value if isinstance(activation, Activation) else ACTIVATION[activation].scalar


def _python_loss(theta, layers, X, Y, loss):
    """E(theta) over lists: ``layers`` holds (offset, n_in, n_out, f, is_hidden)."""
    sample, mean = _scalar_loss(loss)
    terms = []
    for x, y in zip(X, Y):
        a = x
        for offset, n_in, n_out, f, is_hidden in layers:
            z = []
            for j in range(n_out):
                s = theta[offset + j]
                for k in range(n_in):
                    s += a[k] * theta[offset + (k + 1) * n_out + j]
                z.append(s)
            a = [f(v) for v in z] if is_hidden else z
        terms.append(sample(a, y, layers[-1][3]))
    return mean(math.fsum(terms), len(X), len(Y[0]))


def _scalar_loss(loss):
    """(sample, mean) of a loss over lists: its record's, or for a custom Loss
    l_i = sum_j l(f(z_ij), y_ij) and E = (1/n) sum_i l_i."""
    if isinstance(loss, Loss):
        return (lambda z, y, f: math.fsum(loss.value(f(zj), yj) for yj, zj in zip(y, z))), lambda total, n, p: total / n
    return LOSS[loss].scalar_sample, LOSS[loss].scalar_mean


def _differences(loss_at, theta, steps, m, entries):
    """The difference loop shared by both baselines; ``theta`` is a mutable sequence."""
    base = loss_at() if m == 0 else 0.0
    out = np.empty(len(entries))
    for k, (q, h) in enumerate(zip(entries.tolist(), steps.tolist())):
        x0 = theta[q]
        theta[q] = x0 + h
        plus = loss_at()
        if m:
            theta[q] = x0 - h
            minus = loss_at()
        else:
            minus = base
        theta[q] = x0
        out[k] = plus - minus
    return out


def python_differences(prob, steps, m, entries):
    """Differences in plain Python, for theta[entries]."""
    net = prob.net
    n_layers = len(net.layout)
    layers = [(int(o), int(i), int(k), _scalar_activation(activation), l < n_layers - 1)
              for l, ((o, i, k, _, _), activation) in enumerate(zip(net.layout, net.activations))]
    theta = net.theta.tolist()
    X, Y = prob.X.tolist(), prob.Y.tolist()
    return _differences(lambda: _python_loss(theta, layers, X, Y, prob.loss_name), theta, steps, m, entries)


def numpy_differences(prob, steps, m, entries):
    """Differences with a numpy forward pass per evaluation, as the notebook does."""
    work = prob.net.copy()

    def loss_now():
        return losses.value(prob.loss_name, work.output_preactivation(prob.X), prob.Y, work.output)

    return _differences(loss_now, work.theta, steps, m, entries)
