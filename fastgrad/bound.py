"""``fastgrad.Problem``: a validated net, data set and loss with the gradient methods bound to it.

The methods take the options of the free functions of the same names, plus ``out=`` (an
array of P floats to write the gradient into: the call then allocates nothing proportional
to n or P on the default paths). The validation, workspaces and plans are ``problem.Problem``'s,
which sits below the gradient modules; this class sits above them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np
from numpy.typing import ArrayLike

from . import policy, problem
from .check import GradcheckReport, gradcheck_of
from .gradients import analytic, numerical

if TYPE_CHECKING:
    import distributed


class Problem(problem.Problem):
    """``Problem(net, X, Y, loss=None)``: the loss E(theta) of ``net`` on (X, Y), with methods
    ``loss()``, ``analytic_gradient()``, ``numerical_gradient()`` and ``gradcheck()``.
    ``loss=None`` picks ``default_loss(net)``. ``net``, ``X``, ``Y`` and ``loss_name`` are
    read-only. It reads ``net.theta`` at each call; one Problem serves one thread at a time."""

    def analytic_gradient(self, out: np.ndarray | None = None, backend: str = policy.NUMBA) -> np.ndarray:
        """dE/dtheta by backpropagation, into ``out`` if given (see ``fastgrad.analytic_gradient``)."""
        return analytic.gradient_of(self, backend, out)

    def numerical_gradient(self, out: np.ndarray | None = None, h: float | None = None, method: str = "central",
                           backend: str = policy.DEFAULT, strategy: str | None = None,
                           entries: ArrayLike | None = None, full_output: bool = False,
                           client: distributed.Client | None = None, blocks: int | None = None,
                           progress: Callable[[int, int], None] | None = None
                           ) -> np.ndarray | numerical.NumericalGradient:
        """dE/dtheta by finite differences, into ``out`` if given (see ``fastgrad.numerical_gradient``)."""
        return numerical.gradient_of(self, h, backend, entries, strategy, method, full_output, out, client, blocks,
                                     progress)

    def gradcheck(self, **options) -> GradcheckReport:
        """``fastgrad.gradcheck`` on this problem, reusing its workspaces."""
        return gradcheck_of(self, **options)
