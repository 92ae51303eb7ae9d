"""The multilayer perceptron: layer sizes, activations and one flat parameter vector.

Layer l maps a_(l-1) (n, n_in) to z_l = [1, a_(l-1)] W_l and a_l = f_l(z_l), where
W_l is an (n_in+1, n_out) view of ``theta`` with the bias in row 0 (the textbook's
column of ones, ``aug``). Layers are stored one after another, each row-major.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike

from . import activations
from .kernels import codes
from .validation import as_float_matrix, as_real_array, check_allocation, check_finite, choice, seeded_rng

INITS = ("normal", "scaled")


class MLP:
    """A fully connected net ``sizes = [d, m_1, ..., p]`` with all weights in ``theta``.

    Parameters
    ----------
    sizes : sequence of int
        Input width, hidden widths, output width (at least two entries).
    hidden : str, Activation, or sequence of str
        Hidden activation(s): tanh, sigmoid, relu or identity; one name for all hidden
        layers or one per hidden layer; or a ``fastgrad.Activation`` of one's own (for all
        hidden layers: it does not mix with others).
    output : str or Activation
        Output activation: identity, sigmoid, softmax or a ``fastgrad.Activation``.
    init : str
        "normal": every entry standard normal (the textbook's ``randn``);
        "scaled": weights N(0, 2/(n_in+n_out)) (Glorot) or N(0, 2/n_in) for relu (He),
        biases zero.
    seed : int or None
        Seed of the ``numpy.random.default_rng`` used for the initial weights.
    """

    def __init__(self, sizes: Sequence[int], hidden: str | Sequence[str] = "tanh", output: str = "identity",
                 init: str = "normal", seed: int | None = None):
        self.sizes = _check_sizes(sizes)
        n_hidden = len(self.sizes) - 2
        if isinstance(hidden, (str, activations.Activation)):
            names = [hidden] * n_hidden
        elif isinstance(hidden, (list, tuple)):
            names = list(hidden)
        else:
            raise ValueError(f"hidden: expected an activation name, a fastgrad.Activation or a list of names (one per "
                             f"hidden layer), got {type(hidden).__name__}")
        if len(names) != n_hidden:
            raise ValueError(f"hidden: expected one activation or {n_hidden}, got {len(names)}")
        self.hidden = [activations.check_name(a, activations.HIDDEN, "hidden") for a in names]
        custom = [a for a in self.hidden if isinstance(a, activations.Activation)]
        if custom and len(set(self.hidden)) > 1:
            raise ValueError(f"hidden: the custom activation {custom[0].name!r} must be the only hidden activation "
                             f"of the net; got {[str(a) for a in self.hidden]}")
        self.output = activations.check_name(output, activations.OUTPUT, "output")
        if self.output == "softmax" and self.sizes[-1] == 1:
            raise ValueError("output: softmax over one unit is always 1 (its gradient is zero); use 'sigmoid' "
                             "for one probability, or one output per class")
        n_params = check_net_memory(self.sizes)
        self.layout = _layout(self.sizes, self.hidden + [self.output])
        self._theta = np.zeros(n_params)
        self.weights = self.unflatten(self._theta)
        self.initialize(choice("init", init, INITS), seed)

    @property
    def theta(self):
        """All weights, one flat float64 vector (the storage that ``weights`` views). Assigning
        to it copies into that storage, checked, so that every view keeps seeing the model."""
        return self._theta

    @theta.setter
    def theta(self, value):
        self.set_theta(value)

    @property
    def n_params(self):
        """Number of parameters P = sum_l (n_in+1) n_out."""
        return self._theta.size

    @property
    def activations(self):
        """Activation name of every layer, output last."""
        return self.hidden + [self.output]

    def initialize(self, init="normal", seed=None):
        """Draw new weights in place (see the class docstring)."""
        rng = seeded_rng(seed)
        for W, act in zip(self.weights, self.activations):
            if init == "normal":
                W[...] = rng.standard_normal(W.shape)
            else:
                n_in, n_out = W.shape[0] - 1, W.shape[1]
                var = 2.0 / n_in if act == "relu" else 2.0 / (n_in + n_out)
                W[0] = 0.0
                W[1:] = rng.normal(0.0, np.sqrt(var), (n_in, n_out))

    def unflatten(self, vector):
        """Per-layer (n_in+1, n_out) views of a vector aligned with ``theta``."""
        vector = np.asarray(vector)
        if vector.shape != self.theta.shape:
            raise ValueError(f"vector: expected shape {self.theta.shape}, got {vector.shape}")
        return [vector[o:o + (i + 1) * k].reshape(i + 1, k) for o, i, k in self.layout[:, :3]]

    def set_theta(self, theta: ArrayLike) -> None:
        """Copy a parameter vector into ``theta`` (checked for real numbers, shape and finiteness)."""
        theta = as_real_array("theta", theta)
        if theta.shape != self._theta.shape:
            raise ValueError(f"theta: expected shape {self._theta.shape}, got {theta.shape}")
        check_finite("theta", theta)
        self._theta[...] = theta

    def forward_layers(self, X):
        """Layer inputs [X, a_1, ..., a_(L-1)] and the output pre-activation z_L, by numpy."""
        inputs = [X]
        for W, act in zip(self.weights[:-1], self.hidden):
            inputs.append(activations.value(act, W[0] + inputs[-1] @ W[1:]))
        W = self.weights[-1]
        return inputs, W[0] + inputs[-1] @ W[1:]

    def output_preactivation(self, X):
        """z_L for inputs X (already validated), by numpy matrix products."""
        return self.forward_layers(X)[1]

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Network output O = f_L(z_L) for inputs X of shape (n, d)."""
        X = as_float_matrix("X", X, self.sizes[0])
        check_finite("theta", self.theta)
        return activations.value(self.output, self.output_preactivation(X))

    def copy(self) -> MLP:
        """An independent net with the same architecture and weights."""
        twin = MLP.__new__(MLP)
        twin.sizes, twin.hidden, twin.output = list(self.sizes), list(self.hidden), self.output
        twin.layout = self.layout.copy()
        twin._theta = self._theta.copy()
        twin.weights = twin.unflatten(twin._theta)
        return twin

    def __repr__(self):
        return (f"MLP(sizes={self.sizes}, hidden={self.hidden}, output={self.output!r}, "
                f"n_params={self.n_params})")


def check_net_memory(sizes):
    """P for layer ``sizes``, refusing (ValueError naming ``sizes``) a net whose theta would not
    fit in the memory free now."""
    n_params = parameter_count(sizes)
    check_allocation("sizes", f"{list(sizes)} ({n_params:.3g} parameters)", 8 * n_params)
    return n_params


def parameter_count(sizes):
    """P = sum_l (n_in + 1) n_out for layer widths ``sizes``."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def _check_sizes(sizes):
    try:
        sizes = list(sizes)
    except TypeError:
        raise ValueError(f"sizes: expected a list of layer widths, got {sizes!r}") from None
    if len(sizes) < 2:
        raise ValueError(f"sizes: expected at least [inputs, outputs], got {sizes}")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
            raise ValueError(f"sizes: every width must be an integer >= 1, got {sizes}")
    return [int(s) for s in sizes]


def _layout(sizes, names):
    """The integer layer table the kernels read (columns named in kernels.codes)."""
    table = np.zeros((len(sizes) - 1, codes.LAYOUT_COLUMNS), dtype=np.int64)
    theta_offset = cache_offset = 0
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        table[l] = (theta_offset, n_in, n_out, activations.code(names[l]), cache_offset)
        theta_offset += (n_in + 1) * n_out
        cache_offset += n_out
    return table
