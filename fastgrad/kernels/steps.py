"""Kernels of the steps that a sparse Jacobian's float64 points take, each one pass over x0
(``bounded_steps.py`` holds the rules that choose h).
"""
import numpy as np

from .jit import kernel


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
