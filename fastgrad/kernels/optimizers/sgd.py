"""Plain gradient descent: theta <- theta - eta g. No settings, no state."""
from ..jit import helper


@helper
def update(theta, grad, eta, settings, state):
    for q in range(theta.shape[0]):
        theta[q] -= eta * grad[q]
