"""Helpers shared by the tests: random problems and error measures."""
import numpy as np

import fastgrad as fg

ARCHITECTURES = [[2, 5, 2], [2, 4, 3, 2], [3, 4, 3, 5, 2]]  # 1, 2 and 3 hidden layers
HIDDEN = ["tanh", "sigmoid", "relu", "identity"]
OUTPUT_LOSSES = [("identity", "squared"), ("identity", "mse"), ("sigmoid", "squared"),
                 ("sigmoid", "mse"), ("softmax", "cross-entropy")]


def make_problem(sizes, hidden="tanh", output="identity", n=12, seed=0):
    """A random net and data; one-hot targets for a softmax output."""
    rng = np.random.default_rng(seed)
    net = fg.MLP(sizes, hidden=hidden, output=output, seed=seed)
    X = rng.uniform(-1.5, 1.5, size=(n, sizes[0]))
    if output == "softmax":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    elif output == "sigmoid":
        Y = rng.uniform(0.0, 1.0, size=(n, sizes[-1]))
    else:
        Y = rng.normal(size=(n, sizes[-1]))
    return net, X, Y


def scaled_error(approx, exact):
    """max |approx - exact| relative to the gradient's largest entry."""
    return np.abs(approx - exact).max() / np.abs(exact).max()


def min_abs_preactivation(net, X):
    """Distance of the nearest hidden pre-activation from relu's kink at 0."""
    inputs, _ = net.forward_layers(X)
    return min(np.abs(W[0] + A @ W[1:]).min() for W, A in zip(net.weights[:-1], inputs[:-1]))


