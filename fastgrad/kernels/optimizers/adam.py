"""Adam (Kingma and Ba): with t the steps taken, this one included,

    m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2,
    theta <- theta - eta (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon).

settings = [beta1, beta2, epsilon]; state = [m (P entries), v (P entries), t], zero at the start.
"""
import math

from ..jit import helper


@helper
def update(theta, grad, eta, settings, state):
    beta1, beta2, epsilon = settings[0], settings[1], settings[2]
    P = theta.shape[0]
    t = state[2 * P] + 1.0
    state[2 * P] = t
    first = 1.0 / (1.0 - beta1 ** t)  # the bias corrections, once per step
    second = 1.0 / (1.0 - beta2 ** t)
    for q in range(P):
        g = grad[q]
        m = beta1 * state[q] + (1.0 - beta1) * g
        v = beta2 * state[P + q] + (1.0 - beta2) * (g * g)
        state[q], state[P + q] = m, v
        theta[q] -= eta * (m * first) / (math.sqrt(v * second) + epsilon)
