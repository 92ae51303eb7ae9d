"""Losses, each defined once, by its record in ``fastgrad.registry``, with its derivative
with respect to the output pre-activation.

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
from functools import partial

from . import activations
from .custom import Loss
from .registry import LOSS, LOSSES

NAMES = tuple(r.name for r in LOSSES)
_PAIRED = {r.pairs_with: r.name for r in LOSSES if r.pairs_with}  # output -> the loss it needs


def check_pairing(loss, output):
    """Validate the loss name (or custom Loss) and its pairing with the output activation."""
    if isinstance(loss, Loss):
        if output in _PAIRED:
            raise ValueError(f"loss: a {output} output needs loss={_PAIRED[output]!r}, not the custom {loss.name!r}")
        return loss
    if not isinstance(loss, str) or loss not in NAMES:
        raise ValueError(f"loss: unknown loss {loss!r}; expected one of {', '.join(NAMES)} or a fastgrad.Loss")
    needs = LOSS[loss].pairs_with
    if (needs is not None and needs != output) or _PAIRED.get(output, loss) != loss:
        paired = needs or output
        raise ValueError(
            f"loss: {loss!r} cannot be used with a {output!r} output; "
            f"{_PAIRED[paired]} needs output={paired!r} and a {paired} output needs loss={_PAIRED[paired]!r}")
    return loss


def value(loss, Z, Y, output):
    """E from the output pre-activations Z (see the module docstring)."""
    if isinstance(loss, Loss):
        return float(loss.values(activations.value(output, Z), Y).sum() / Z.shape[0])
    return LOSS[loss].value(Z, Y, partial(activations.value, output))


def delta(loss, Z, Y, output):
    """dE/dZ (see the module docstring)."""
    if isinstance(loss, Loss):
        O = activations.value(output, Z)
        return (1.0 / Z.shape[0]) * loss.slopes(O, Y) * activations.slope(output, O, Z)
    return LOSS[loss].delta(Z, Y, partial(activations.value, output), partial(activations.slope, output))
