"""A net, its data and a loss, validated together before any compiled code runs."""
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from . import losses
from .kernels import jobs
from .model import MLP
from .validation import as_float_matrix, check_finite, check_samples


@dataclass(frozen=True)
class Problem:
    """A validated (net, X, Y, loss), with the transposed float64 copies the kernels read and
    the formulas that select them."""
    net: MLP
    X: np.ndarray
    Y: np.ndarray
    loss: str

    @cached_property
    def XT(self):
        """X transposed, (d, n), C-contiguous: the layout every kernel reads."""
        return np.ascontiguousarray(self.X.T)

    @cached_property
    def YT(self):
        """Y transposed, (p, n), C-contiguous."""
        return np.ascontiguousarray(self.Y.T)

    @property
    def formulas(self):
        """The kernels' bindings for this net's activations and this loss."""
        return jobs.formulas(self.net.hidden, self.net.output, self.loss)


def default_loss(net):
    """The loss a net's output calls for: cross-entropy after softmax, otherwise squared."""
    return "cross-entropy" if net.output == "softmax" else "squared"


def loss(net, X, Y, loss=None):
    """E(theta) for the named loss (equations in ``fastgrad.losses``); None picks ``default_loss``."""
    prob = problem(net, X, Y, loss)
    return losses.value(prob.loss, net.output_preactivation(prob.X), prob.Y, net.output)


def problem(net, X, Y, loss):
    """Check shapes, finiteness and the loss/output pairing; return a Problem.

    ``loss=None`` picks ``default_loss(net)``.
    """
    if not isinstance(net, MLP):
        raise ValueError(f"net: expected a fastgrad.MLP, got {type(net).__name__}")
    loss = losses.check_pairing(default_loss(net) if loss is None else loss, net.output)
    X = as_float_matrix("X", X, net.sizes[0])
    Y = as_float_matrix("Y", Y, net.sizes[-1])
    check_samples(X, Y)
    check_finite("theta", net.theta)
    return Problem(net, X, Y, loss)
