"""Heavy-ball momentum: v <- beta v + g, theta <- theta - eta v.

settings = [beta]; state = v (P entries, zero at the start).
"""
from ..jit import helper


@helper
def update(theta, grad, eta, settings, state):
    beta = settings[0]
    for q in range(theta.shape[0]):
        state[q] = beta * state[q] + grad[q]
        theta[q] -= eta * state[q]
