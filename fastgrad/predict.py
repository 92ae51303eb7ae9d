"""A trained net as a model of its data: the saved scaling applied, class labels given back.

``load_model(path)`` reads a weights file that ``fastgrad train --save`` wrote (the net, its
scaling and its data options) and returns a Model, whose ``predict`` takes inputs in the
data's own units.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike

from .custom import Activation
from .datasets import Scaling
from .io import load_weights
from .model import MLP


@dataclass(frozen=True)
class Model:
    """A net with what its data needs.

    Attributes
    ----------
    net : MLP
    scaling : datasets.Scaling or None
        The standardisation the net was trained with (inputs, and regression targets).
    kind : {"regression", "classification"}
    feature_names, target_names : tuple of str
        The data's input columns and target columns (for a CSV file, its header's names).
    labels : tuple
        The class labels, in the order of the net's outputs (classification).
    data_options : dict
        How the data was read (``runs.data_options``); empty for weights saved without them.
    """
    net: MLP
    scaling: Scaling | None = None
    kind: str = "regression"
    feature_names: tuple = ()
    target_names: tuple = ()
    labels: tuple = ()
    data_options: dict | None = None

    def outputs(self, X: ArrayLike) -> np.ndarray:
        """The net's outputs for inputs X in the data's units: regression values in the data's
        units, or class probabilities (n, classes)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X.reshape(-1, self.net.sizes[0])
        if self.scaling is None:
            return self.net.predict(X)
        return self.scaling.original_targets(self.net.predict(self.scaling.inputs(X)))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Regression: the predicted values (n, outputs) in the data's units. Classification: the
        label of the most probable class for each row (n,), as the data wrote it."""
        outputs = self.outputs(X)
        if self.kind != "classification":
            return outputs
        index = outputs.argmax(axis=1)
        return np.asarray(self.labels, dtype=object)[index] if self.labels else index


def load_model(path: str | os.PathLike, activations: Sequence[Activation] = ()) -> Model:
    """The Model saved at ``path`` (``load_weights``'s file; ``activations`` as there)."""
    net, meta = load_weights(path, activations)
    options = meta.get("data_options") or {}
    if not isinstance(options, dict):
        raise ValueError(f"{path}: not a fastgrad weights file (data_options is not a mapping)")
    scaling = None
    if meta.get("scaling") is not None:
        try:
            scaling = Scaling.from_json(meta["scaling"], net.sizes[0], net.sizes[-1])
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
    kind = options.get("kind", "classification" if str(net.output) == "softmax" else "regression")
    labels = tuple(options.get("labels") or ())
    if kind == "classification" and labels and len(labels) != net.sizes[-1]:
        raise ValueError(f"{path}: {len(labels)} class labels for a net of {net.sizes[-1]} outputs")
    return Model(net, scaling, kind, tuple(options.get("feature_names") or ()),
                 tuple(options.get("target_names") or ()), labels, options)
