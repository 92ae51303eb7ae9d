"""A run from its settings: the data, the net (new, the textbook's, or resumed) and the loss.

The command line's ``train``, ``gradcheck`` and ``hsweep`` build their runs here; so can a
script. Each error is a ValueError that begins with the argument it is about.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Sequence

from . import datasets
from .io import load_weights
from .model import MLP
from .problem import problem

BUILTIN_DATA = ("seed", "seed-analytic", "sine", "spirals")
DEFAULT_SEED = 0
DEFAULT_STEPS = 1000
DEFAULT_ETA = 0.1


@dataclass(frozen=True)
class Run:
    """What a run works on.

    Attributes
    ----------
    data : datasets.Dataset
        The data, standardised when asked for or when the resumed weights were trained so.
    net : MLP
        The net to train or check.
    loss : str
        The loss's name.
    seed : int
        The seed of the data, the new net's weights and the minibatches.
    example : datasets.SeedExample or None
        The textbook example behind ``data="seed"`` or ``"seed-analytic"``.
    resumed_after : int
        Steps done before, as saved with the resumed weights (0 for a new net).
    data_options : dict
        What the data was made of (``data_options``), saved with the weights so that resuming
        or predicting reads the data the same way.
    """
    data: datasets.Dataset
    net: MLP
    loss: str
    seed: int
    example: datasets.SeedExample | None = None
    resumed_after: int = 0
    data_options: dict | None = None

    @property
    def h(self) -> float | None:
        """The finite-difference step by default: the example's (1e-5), else None (the rule)."""
        return self.example.h if self.example else None

    def steps(self, steps: int | None = None) -> int:
        """``steps``, or by default the example's (10,000 or 100,000) or DEFAULT_STEPS."""
        return steps or (self.example.steps if self.example else DEFAULT_STEPS)

    def eta(self, eta: float | None = None) -> float:
        """``eta``, or by default the example's (0.01 or 0.1) or DEFAULT_ETA."""
        return eta or (self.example.eta if self.example else DEFAULT_ETA)


def load_data(data: str = "seed", samples: int | None = None, target: Sequence[str | int] = (),
              classify: bool = False, test_fraction: float = 0.0, seed: int = DEFAULT_SEED,
              features: Sequence[str | int] | None = None, drop: Sequence[str | int] = (),
              validation_fraction: float = 0.0):
    """The dataset ``data`` names, and its textbook example (None for the others).

    ``data`` is one of BUILTIN_DATA or the path of a CSV file with a header row; ``samples``
    is the sine (default 25) or spirals (300) sample count; ``target``, ``classify``,
    ``test_fraction``, ``features`` and ``drop`` are for CSV files only (``datasets.load_csv``).
    ``validation_fraction`` of the training rows (after the test rows are held out) become the
    validation rows, drawn with ``seed`` + 1. An argument the data would ignore is refused.
    """
    if samples is not None and data not in ("sine", "spirals"):
        raise ValueError(f"samples: only sine and spirals take a sample count, not the {data} data")
    if data in BUILTIN_DATA:
        for name, given in (("target", target), ("classify", classify), ("test_fraction", test_fraction),
                            ("features", features), ("drop", drop)):
            if given:
                raise ValueError(f"{name}: only for CSV files, not the {data} data")
    example = None
    if data in ("seed", "seed-analytic"):
        example = datasets.seed_numerical_example() if data == "seed" else datasets.seed_analytic_example()
        dataset = example.data
    elif data == "sine":
        dataset = datasets.sine(n=samples or 25, seed=seed)
    elif data == "spirals":
        dataset = datasets.spirals(n=samples or 300, seed=seed)
    else:
        dataset = datasets.load_csv(data, target=list(target) or -1, classify=classify, test_fraction=test_fraction,
                                    seed=seed, features=None if features is None else list(features), drop=list(drop))
    if validation_fraction:
        dataset = datasets.split(dataset, validation_fraction, seed + 1, validation=True)
    return dataset, example


def fitting_net(data: datasets.Dataset, example: datasets.SeedExample | None = None,
                sizes: Sequence[int] | None = None, activation: str | None = None, output: str | None = None,
                init: str | None = None, seed: int | None = None) -> MLP:
    """A new net for ``data``: the example's own net when nothing about the net is given
    (``seed`` included), else ``sizes`` (default [inputs, 10, outputs]) with ``activation``
    (tanh), ``output`` (softmax for classes, else identity) and ``init`` (the textbook
    examples' data: "normal", the notebook's; else "scaled", Glorot's or He's)."""
    if example is not None and all(v is None for v in (sizes, activation, output, init, seed)):
        return example.net
    default_output = "softmax" if data.kind == "classification" else "identity"
    return MLP(sizes or [data.X.shape[1], 10, data.Y.shape[1]], hidden=activation or "tanh",
               output=output or default_output, init=init or ("normal" if example else "scaled"),
               seed=DEFAULT_SEED if seed is None else seed)


def resumed_net(path: str | os.PathLike, sizes: Sequence[int] | None = None) -> tuple[MLP, dict]:
    """The net saved at ``path`` and its metadata; ``sizes``, when given, must be the net's."""
    net, meta = load_weights(path)
    if sizes and list(sizes) != net.sizes:
        raise ValueError(f"resume: {path} holds a {net.sizes} net, not the {list(sizes)} of sizes")
    return net, meta


def _refuse_what_the_saved_net_fixes(path, net, activation, output, init):
    """A resumed net keeps its activations and weights: asking for others is an error, not a
    setting silently ignored."""
    if init is not None:
        raise ValueError(f"init: {path} holds trained weights, which resuming keeps; leave out init")
    for name, asked, saved in (("activation", activation, [str(a) for a in net.hidden]),
                               ("output", output, [str(net.output)])):
        if asked is not None and any(s != asked for s in saved):
            raise ValueError(f"{name}: {path} holds a net with {name} {'-'.join(saved)}, not {asked}; leave out "
                             f"{name} to resume it")


def check_fit(net: MLP, data: datasets.Dataset, source: str = "sizes") -> None:
    """Refuse a net whose input and output widths are not the data's; ``source`` begins the message."""
    d, p = data.X.shape[1], data.Y.shape[1]
    if net.sizes[0] != d or net.sizes[-1] != p:
        raise ValueError(f"{source}: the net {net.sizes} does not fit the data, which has {d} input(s) "
                         f"and {p} output(s)")


def scaled(data: datasets.Dataset, standardize: bool = False, saved: dict | None = None,
           source: str = "resume") -> datasets.Dataset:
    """The data as the net sees it: scaled by ``saved`` (a ``Scaling.to_json`` kept with resumed
    weights: weights trained on scaled data keep seeing it scaled), else by its own training
    rows when ``standardize``, else as it is (with a warning when its scale is far from 1)."""
    if saved is not None or standardize:
        try:
            scaling = None if saved is None else datasets.Scaling.from_json(saved, data.X.shape[1], data.Y.shape[1])
        except ValueError as exc:
            raise ValueError(f"{source}: {exc}") from None
        return datasets.standardize(data, scaling)
    if warning := datasets.scale_warning(data):
        warnings.warn(warning)
    return data


DATA_DEFAULTS = {"data": None, "samples": None, "target": (), "classify": False, "test_fraction": 0.0, "features": None,
                 "drop": (), "validation_fraction": 0.0}  # the data options, as load_data takes them


def data_options(dataset: datasets.Dataset, seed: int, **options) -> dict:
    """What a dataset was made of, as saved with the weights: ``load_data``'s options (``options``
    on top of DATA_DEFAULTS; None: not given), the seed, and what the data turned out to have (its feature
    columns, target columns, kind and class labels)."""
    recorded = {**DATA_DEFAULTS, **options, "seed": seed}
    recorded = {k: list(v) if isinstance(v, tuple) else v for k, v in recorded.items()}
    targets = list(dataset.target_names)
    if dataset.labels and dataset.kind == "classification" and recorded["data"] not in BUILTIN_DATA:
        targets = [targets[0][:-len(str(dataset.labels[0])) - 1]]  # "column=label": the column
    return {**recorded, "feature_names": list(dataset.feature_names), "target_names": targets,
            "kind": dataset.kind, "labels": list(dataset.labels)}


def reused_options(path, saved: dict, given: dict, seed: int | None) -> tuple[dict, int | None]:
    """The data options of a resumed run: those saved with the weights, where ``given`` leaves
    them at their defaults; a given one that differs from the saved is refused, and so is
    another seed where the saved data was split by it."""
    options = dict(given)
    for name, default in DATA_DEFAULTS.items():
        saved_value, value = saved.get(name, default), given.get(name, default)
        if isinstance(saved_value, list):
            saved_value = tuple(saved_value)
        if isinstance(value, list):
            value = tuple(value)
        if value == default or value is None:
            options[name] = saved_value
        elif value != saved_value:
            raise ValueError(f"{name}: {path} was trained with {name} {saved_value!r}, not {value!r}; leave it out "
                             "to reuse the saved one")
    seeded = saved.get("test_fraction") or saved.get("validation_fraction") or saved.get("data") in ("sine", "spirals")
    if seed is not None and seeded and seed != saved.get("seed"):
        raise ValueError(f"seed: {path} was trained on rows drawn or split with seed {saved.get('seed')}; another "
                         "seed would give other rows")
    return options, saved.get("seed") if seed is None else seed


def setup(data: str | None = None, *, samples: int | None = None, target: Sequence[str | int] = (),
          classify: bool = False, test_fraction: float = 0.0, standardize: bool = False,
          sizes: Sequence[int] | None = None, activation: str | None = None, output: str | None = None,
          loss: str | None = None, init: str | None = None, seed: int | None = None,
          resume: str | os.PathLike | None = None, features: Sequence[str | int] | None = None,
          drop: Sequence[str | int] = (), validation_fraction: float = 0.0) -> Run:
    """The Run these settings describe: ``load_data``, then the net (``resumed_net`` from the
    weights file ``resume``, else ``fitting_net``) checked against the data (``check_fit``),
    the data ``scaled`` as the net expects, and the loss (``loss``, else the example's for its
    own output, else the net's default). ``data`` None is "seed", or a resumed run's own data;
    a resumed run reads its data as saved (``reused_options``).

    Examples
    --------
    >>> run = setup("sine", samples=40, sizes=[1, 8, 1], seed=3)
    >>> run.net.sizes, run.loss, run.data.X.shape
    ([1, 8, 1], 'squared', (40, 1))
    """
    options = {"data": data, "samples": samples, "target": tuple(target), "classify": classify, "test_fraction": test_fraction,
               "features": None if features is None else tuple(features), "drop": tuple(drop),
               "validation_fraction": validation_fraction}
    meta = {}
    if resume:
        net, meta = resumed_net(resume, sizes)
        _refuse_what_the_saved_net_fixes(resume, net, activation, output, init)
        if "data_options" in meta:
            options, seed = reused_options(resume, meta["data_options"], options, seed)
    options["data"] = options["data"] or "seed"
    used_seed = DEFAULT_SEED if seed is None else seed
    dataset, example = load_data(seed=used_seed, **options)
    if not resume:
        net = fitting_net(dataset, example, sizes, activation, output, init, seed)
    check_fit(net, dataset, f"resume {resume}" if resume else "sizes")
    dataset = scaled(dataset, standardize, meta.get("scaling"), f"resume {resume}")
    loss = loss or (example.loss if example and net.output != "softmax" else None)
    return Run(dataset, net, problem(net, dataset.X, dataset.Y, loss).loss_name, used_seed, example,
               int(meta.get("steps_done", 0)), data_options(dataset, used_seed, **options))
