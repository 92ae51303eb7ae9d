"""softmax: f(z)_j = e^z_j / sum_k e^z_k, for the output layer with cross-entropy only.

Cross-entropy is written in the logits z (``losses/cross_entropy.py``): its delta is
dE/dz and its differences take changes of z. So on the way to the loss softmax passes
slopes and changes through unchanged; ``activate`` fills A with the probabilities.
"""
import math

from ..jit import helper
from .identity import change, complex_value, times_slope  # noqa: F401 (passed through, as identity)


@helper
def activate(code, Z, A, scratch):
    """A[:, i] = softmax(Z[:, i]), shifted by the column's maximum."""
    p, n = Z.shape
    for i in range(n):
        top = Z[0, i]
        for j in range(1, p):
            top = max(top, Z[j, i])
        s = 0.0
        for j in range(p):
            A[j, i] = math.exp(Z[j, i] - top)
            s += A[j, i]
        for j in range(p):
            A[j, i] /= s
