"""The loss on held-out rows during training, and early stopping on it.

At every step s that is a multiple of ``every`` (the training loop ends its chunks there)
the held-out loss is taken at the weights before step s's update, and once more at the
final weights. The best weights are those of least held-out loss (the earliest on a
tie). With ``patience`` P, training stops at the first recorded step s with
s - best step >= P, and the net gets the best weights back.
"""
from __future__ import annotations

import numpy as np

from .problem import loss as loss_value, problem
from .validation import positive_int


class HeldOut:
    """Held-out rows ``X``, ``Y`` of a net trained with ``loss``, their loss taken every ``every``
    steps; ``patience`` (steps, or None: never stop early) needs them."""

    def __init__(self, net, X, Y, loss, patience=None, every=1):
        self.prob, self.every = problem(net, X, Y, loss), every
        self.patience = None if patience is None else positive_int("patience", patience)
        self.best_step, self.best_loss, self.best_theta = -1, np.inf, net.theta.copy()

    def at(self, step: int, history, recorded: bool = True) -> bool:
        """Take the held-out loss at ``step`` (recorded in ``history`` unless ``recorded`` is
        False); whether patience has run out."""
        prob = self.prob
        value = loss_value(prob.net, prob.X, prob.Y, prob.loss_name, "numpy")
        if recorded:
            history.held_out_steps.append(step)
            history.held_out_losses.append(value)
        if value < self.best_loss:
            self.best_step, self.best_loss = step, value
            self.best_theta[:] = prob.net.theta
        history.best_step, history.best_loss = self.best_step, self.best_loss
        return self.patience is not None and step - self.best_step >= self.patience

    def restore(self) -> None:
        """With patience, give the net the best weights."""
        if self.patience is not None and self.best_step >= 0:
            self.prob.net.theta = self.best_theta
