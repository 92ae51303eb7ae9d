"""Losses: each defined once, with its derivative with respect to the output pre-activation.

For n samples with p outputs, output pre-activation Z, output O = f(Z) and targets Y:

squared:        E = (1/n) sum_i 1/2 ||y_i - o_i||^2          dE/dZ = (1/n)(O - Y) f'(Z)
mse:            E = 1/(n p) sum_ij (y_ij - o_ij)^2            dE/dZ = 2/(n p)(O - Y) f'(Z)
cross-entropy:  E = (1/n) sum_ij -y_ij log softmax(z_i)_j     dE/dZ = (1/n)(softmax(Z) m - Y),
                with m_i = sum_j y_ij (1 for one-hot rows), log softmax computed as z - logsumexp(z).

"squared" is the textbook's loss; "mse" is what its numerical notebook minimises, and
its gradient is exactly 2/p times the "squared" one. Cross-entropy needs a softmax
output and a softmax output needs cross-entropy. A user's ``custom.Loss`` l(o, y):

custom:         E = (1/n) sum_ij l(o_ij, y_ij)                dE/dZ = (1/n) dl/do(O, Y) f'(Z)
"""
import numpy as np

from . import activations
from .custom import Loss

NAMES = ("squared", "mse", "cross-entropy")


def check_pairing(loss, output):
    """Validate the loss name (or custom Loss) and its pairing with the output activation."""
    if isinstance(loss, Loss):
        if output == "softmax":
            raise ValueError(f"loss: a softmax output needs loss='cross-entropy', not the custom {loss.name!r}")
        return loss
    if not isinstance(loss, str) or loss not in NAMES:
        raise ValueError(f"loss: unknown loss {loss!r}; expected one of {', '.join(NAMES)} or a fastgrad.Loss")
    if (loss == "cross-entropy") != (output == "softmax"):
        raise ValueError(
            f"loss: {loss!r} cannot be used with a {output!r} output; "
            "cross-entropy needs output='softmax' and a softmax output needs loss='cross-entropy'")
    return loss


def _log_softmax(Z):
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def value(loss, Z, Y, output):
    """E from the output pre-activations Z (see the module docstring)."""
    n, p = Z.shape
    if isinstance(loss, Loss):
        return float(loss.values(activations.value(output, Z), Y).sum() / n)
    if loss == "cross-entropy":
        return float(-(Y * _log_softmax(Z)).sum() / n)
    residual = activations.value(output, Z) - Y
    if loss == "squared":
        return float(0.5 * (residual * residual).sum() / n)
    return float((residual * residual).sum() / (n * p))


def delta(loss, Z, Y, output):
    """dE/dZ (see the module docstring)."""
    n, p = Z.shape
    if loss == "cross-entropy":
        return (np.exp(_log_softmax(Z)) * Y.sum(axis=1, keepdims=True) - Y) / n
    O = activations.value(output, Z)
    if isinstance(loss, Loss):
        return (1.0 / n) * loss.slopes(O, Y) * activations.slope(output, O, Z)
    factor = 1.0 / n if loss == "squared" else 2.0 / (n * p)
    return factor * (O - Y) * activations.slope(output, O, Z)
