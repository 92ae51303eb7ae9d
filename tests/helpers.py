"""Helpers shared by the tests: random problems, error measures and the tiers' cases."""
import numpy as np
import pytest

import fastgrad as fg

ARCHITECTURES = [[2, 5, 2], [2, 4, 3, 2], [3, 4, 3, 5, 2]]  # 1, 2 and 3 hidden layers
HIDDEN = ["tanh", "sigmoid", "relu", "identity"]
MIXED = "mixed"  # make_problem: the hidden activations in turn, one per layer
OUTPUT_LOSSES = [("identity", "squared"), ("identity", "mse"), ("sigmoid", "squared"),
                 ("sigmoid", "mse"), ("softmax", "cross-entropy")]
# A configuration (hidden activations, output, loss) compiles kernels of its own, seconds each,
# so the tests do not take the whole cross product of 20: every hidden activation meets the
# textbook's output and loss; mixed hidden layers (all four activations in one kernel) meet
# both outputs that transform, as sigmoid with squared and softmax with cross-entropy; tanh
# meets every other pair of output and loss. Each formula module thus runs in every template,
# and each pair of output and loss once, in nine configurations.
CONFIGURATIONS = ([(h, "identity", "squared") for h in HIDDEN]
                  + [("tanh", o, l) for o, l in OUTPUT_LOSSES[1:] if (o, l) != ("sigmoid", "squared")]
                  + [(MIXED, "sigmoid", "squared"), (MIXED, "softmax", "cross-entropy")])
TEXTBOOK = ("tanh", "identity", "squared")
# The quick tier's cases (depth, configuration): the textbook's, and three hidden layers of
# tanh, sigmoid and relu (every built-in hidden activation in one kernel) under softmax and
# cross-entropy.
QUICK_CASES = [(1, TEXTBOOK), (3, (MIXED, "softmax", "cross-entropy"))]


def slow_unless(quick, *values, name=None):
    """``pytest.param(*values)``, marked slow (the full tier) unless ``quick``."""
    return pytest.param(*values, id=name, marks=() if quick else pytest.mark.slow)


def cases():
    """Params (sizes, hidden, output, loss) for "sizes,hidden,output,loss": every architecture
    with every configuration, but mixed on one hidden layer (that is tanh's net, a case
    already); all but QUICK_CASES marked slow."""
    return [slow_unless((len(sizes) - 2, configuration) in QUICK_CASES, sizes, *configuration,
                        name="-".join(configuration) + f"-{len(sizes) - 2}hidden")
            for sizes in ARCHITECTURES for configuration in CONFIGURATIONS
            if not (configuration[0] == MIXED and len(sizes) == 3)]


def make_problem(sizes, hidden="tanh", output="identity", n=12, seed=0):
    """A random net and data; one-hot targets for a softmax output. ``hidden=MIXED`` gives
    the layers the HIDDEN activations in turn."""
    rng = np.random.default_rng(seed)
    if hidden == MIXED:
        hidden = [HIDDEN[l % len(HIDDEN)] for l in range(len(sizes) - 2)]
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


