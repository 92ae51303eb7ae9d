"""Kernels of a sparse Jacobian's steps at a float64 point, each one pass over x0
(``bounded_steps.py`` holds the rules that choose h): the default step, and the steps
that the points actually take.
"""
import numpy as np

from .jit import kernel


@kernel
def default_steps(x0, r):
    """h_i = r s_i max(1, |x0_i|), s_i = -1 where x0_i < 0, else +1 (the product formed as
    scipy forms it, to the bit: negating is exact; a NaN x0_i gives a NaN step)."""
    h = np.empty(x0.shape[0])
    for i in range(x0.shape[0]):
        size = abs(x0[i])
        step = r * (1.0 if size < 1.0 else size)
        h[i] = -step if x0[i] < 0 else step
    return h


@kernel
def forward_taken(x0, h):
    """dx_i = (x0_i + h_i) - x0_i, the forward step that a float64 point takes."""
    dx = np.empty(x0.shape[0])
    for i in range(x0.shape[0]):
        dx[i] = (x0[i] + h[i]) - x0[i]
    return dx


@kernel
def central_steps(x0, h):
    """(steps, dx): the central rule's steps as rows, steps[0] = -h and steps[1] = h, and
    dx_i = (x0_i + h_i) - (x0_i - h_i), the step between the two float64 points."""
    steps = np.empty((2, x0.shape[0]))
    dx = np.empty(x0.shape[0])
    for i in range(x0.shape[0]):
        steps[0, i] = -h[i]
        steps[1, i] = h[i]
        dx[i] = (x0[i] + h[i]) - (x0[i] - h[i])
    return steps, dx
