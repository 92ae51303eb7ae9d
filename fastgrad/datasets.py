"""Datasets: the textbook's sine examples, a classification set, and CSV files.

Every loader returns float64 arrays X (n, d) and Y (n, p) and validates them.
"""
import csv
import math
import os
import warnings
from dataclasses import dataclass, replace

import numpy as np

from .model import MLP
from .validation import check_allocation, positive_int, readable_bytes, seeded_rng


def _moments(A):
    """Per column mean and spread (std; 1 for a constant column). Where they overflow (columns
    near the float range, +-1e308), they are computed on A / max|A| and scaled back."""
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = A.mean(axis=0), A.std(axis=0)
    if not (np.isfinite(mean).all() and np.isfinite(std).all()):
        scale = np.abs(A).max(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        unit = A / scale
        mean, std = unit.mean(axis=0) * scale, unit.std(axis=0) * scale
    return mean, np.where(std > 0, std, 1.0)


@dataclass(frozen=True)
class Scaling:
    """Standardisation: x' = (x - x_mean) / x_std per input column and, for regression,
    y' = (y - y_mean) / y_std per target column (y_mean, y_std None for classes). A
    constant column keeps its scale (std 1)."""
    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: np.ndarray = None
    y_std: np.ndarray = None

    @classmethod
    def of(cls, data):
        """The scaling of a dataset's training rows."""
        regression = data.kind == "regression"
        (x_mean, x_std), (y_mean, y_std) = _moments(data.X), _moments(data.Y) if regression else (None, None)
        return cls(x_mean, x_std, y_mean, y_std)

    def inputs(self, X):
        return (X - self.x_mean) / self.x_std

    def original_inputs(self, X):
        return X * self.x_std + self.x_mean

    def targets(self, Y):
        return Y if self.y_mean is None else (Y - self.y_mean) / self.y_std

    def original_targets(self, Y):
        """Outputs or targets back in the data's units."""
        return Y if self.y_mean is None else Y * self.y_std + self.y_mean

    def to_json(self):
        return {k: None if v is None else np.asarray(v).tolist() for k, v in vars(self).items()}

    @classmethod
    def from_json(cls, values, d, p):
        """A Scaling from ``to_json``'s values, checked against d inputs and p outputs."""
        try:
            arrays = {k: None if values.get(k) is None else np.asarray(values[k], dtype=np.float64)
                      for k in ("x_mean", "x_std", "y_mean", "y_std")}
        except (TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"scaling: not a saved standardisation ({exc})") from None
        widths = {"x_mean": d, "x_std": d, "y_mean": p, "y_std": p}
        for k, v in arrays.items():
            if v is not None and (v.shape != (widths[k],) or not np.isfinite(v).all()
                                  or (k.endswith("std") and not (v > 0).all())):
                raise ValueError(f"scaling: {k} does not fit {widths[k]} columns of finite (positive) numbers")
        if arrays["x_mean"] is None or arrays["x_std"] is None:
            raise ValueError("scaling: the inputs' mean and std are missing")
        return cls(**arrays)


@dataclass
class Dataset:
    X: np.ndarray
    Y: np.ndarray
    X_test: np.ndarray = None
    Y_test: np.ndarray = None
    kind: str = "regression"       # or "classification" (one-hot Y)
    truth: object = None           # the true function for 1-D regression, if known
    feature_names: tuple = ()
    target_names: tuple = ()
    scaling: Scaling = None        # set by ``standardize``: X and Y (and the test rows) are scaled
    labels: tuple = ()             # the class labels as the data writes them, in Y's column order
    X_val: np.ndarray = None       # validation rows, held out of the training rows (``split``)
    Y_val: np.ndarray = None


def standardize(data, scaling=None):
    """The dataset with inputs (and regression targets) standardised by ``scaling``, by
    default the scaling of its own training rows; the scaling is kept in ``data.scaling``,
    so that predictions can be put back in the data's units."""
    scaling = scaling or Scaling.of(data)
    scaled = replace(data, X=scaling.inputs(data.X), Y=scaling.targets(data.Y), scaling=scaling)
    if data.X_test is not None:
        scaled.X_test, scaled.Y_test = scaling.inputs(data.X_test), scaling.targets(data.Y_test)
    if data.X_val is not None:
        scaled.X_val, scaled.Y_val = scaling.inputs(data.X_val), scaling.targets(data.Y_val)
    return scaled


def scale_warning(data):
    """A sentence when unscaled inputs or regression targets are far from order 1 (nets start
    with outputs of order 1 and learn such scales slowly), else None."""
    parts = [("inputs", data.X, data.feature_names)]
    if data.kind == "regression":
        parts.append(("targets", data.Y, data.target_names))
    for what, A, names in parts:
        size = np.maximum(np.abs(A.mean(axis=0)), A.std(axis=0))
        if size.max() > 100 or 0 < size.max() < 0.01:
            column = names[int(size.argmax())] if names else f"column {int(size.argmax())}"
            return (f"the {what} are of order {size.max():.2g} ({column!r}); training may stall at that scale: "
                    f"--standardize scales inputs and targets, and puts predictions back in the data's units")
    return None


@dataclass
class SeedExample:
    """A textbook example: data, the net with its notebook weights, and its settings."""
    data: Dataset
    net: MLP
    loss: str
    eta: float
    steps: int
    h: float = 1e-5


def sine(n=25, low=-math.pi, high=math.pi, noise=0.0, seed=None):
    """n points x ~ U(low, high), y = sin x + noise N(0, noise^2); a test grid of step 0.1."""
    n = positive_int("n", n)
    check_allocation("n", f"{n} samples", 16 * n)
    if not low < high:
        raise ValueError(f"interval: expected low < high, got ({low}, {high})")
    rng = seeded_rng(seed)
    X = rng.uniform(low, high, n).reshape(n, 1)
    Y = np.sin(X) + (noise * rng.standard_normal((n, 1)) if noise else 0.0)
    t = np.arange(low, high, 0.1).reshape(-1, 1)
    return Dataset(X, Y, t, np.sin(t), truth=np.sin)


def seed_numerical_example():
    """Example 25.3 with the numerical gradient, drawn exactly as the notebook does.

    np.random.seed(111); X = uniform(-pi, pi, 25); W1 = randn(2, 10); W2 = randn(11, 1);
    mse loss, eta = 1e-2, 10,000 steps, h = 1e-5; tested on arange(-2 pi, 2 pi, 0.1).
    """
    legacy = np.random.RandomState(111)
    X = legacy.uniform(-np.pi, np.pi, 25).reshape(25, 1)
    W1 = legacy.randn(2, 10)
    W2 = legacy.randn(11, 1)
    net = MLP([1, 10, 1], hidden="tanh", output="identity")
    net.set_theta(np.concatenate([W1.ravel(), W2.ravel()]))
    t = np.arange(-2 * np.pi, 2 * np.pi, 0.1).reshape(-1, 1)
    return SeedExample(Dataset(X, np.sin(X), t, np.sin(t), truth=np.sin), net, "mse", 1e-2, 10_000)


def seed_analytic_example(seed=11):
    """Example 25.3 with backprop: 25 points on (-10, 10), squared loss, eta = 0.1.

    The notebook drew X before seeding (so it cannot be reproduced) and then used
    np.random.seed(11) for W1, W2; here X is drawn after seeding, W1 and W2 follow.
    """
    legacy = np.random.RandomState(seed)
    X = legacy.uniform(-10, 10, 25).reshape(25, 1)
    W1 = legacy.randn(2, 10)
    W2 = legacy.randn(11, 1)
    net = MLP([1, 10, 1], hidden="tanh", output="identity")
    net.set_theta(np.concatenate([W1.ravel(), W2.ravel()]))
    t = np.arange(-10, 10, 0.1).reshape(-1, 1)
    return SeedExample(Dataset(X, np.sin(X), t, np.sin(t), truth=np.sin), net, "squared", 1e-1, 100_000)


def spirals(n=300, classes=3, noise=0.2, seed=None):
    """``classes`` interleaved spiral arms in the plane, n points in all; one-hot targets."""
    n = positive_int("n", n)
    classes = positive_int("classes", classes)
    if classes < 2:
        raise ValueError(f"classes: expected at least 2, got {classes}")
    check_allocation("n", f"{n} samples of {classes} classes", 8 * n * (2 + classes))
    rng = seeded_rng(seed)
    label = np.arange(n) % classes
    r = rng.uniform(0.05, 1.0, n)
    angle = label * 2 * np.pi / classes + 4.0 * r + noise * rng.standard_normal(n)
    X = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    return Dataset(X, np.eye(classes)[label], kind="classification",
                   target_names=tuple(f"class {c}" for c in range(classes)), labels=tuple(range(classes)))


def load_csv(path, target=-1, classify=False, test_fraction=0.0, seed=None, features=None, drop=()):
    """Read a numeric CSV file with a header row.

    Parameters
    ----------
    target : str, int or sequence of them
        Target column(s), by header name or index (negative counts from the end).
    classify : bool
        Treat the single target column as class labels (numbers or strings) and one-hot
        encode them; warns when there are more than max(10, n/10) labels in n rows (a
        continuous target, most likely).
    test_fraction : float
        Share of rows (shuffled with ``seed``) held out as the test set.
    features : sequence of str or int, or None
        The input columns (default: every column but the targets and ``drop``).
    drop : sequence of str or int
        Columns to leave out (they are not read: text is allowed there).
    """
    rows = _read_rows(path)
    (_, header), body = rows[0], rows[1:]
    if not body:
        raise ValueError(f"{path}: no data rows after the header")
    targets = _column_indices(path, header, target)
    if classify and len(targets) != 1:
        raise ValueError("target: classification needs exactly one label column")
    dropped = set(_column_indices(path, header, drop, "drop")) if len(drop) else set()
    if features is None:
        features = [c for c in range(len(header)) if c not in targets and c not in dropped]
    else:
        features = _column_indices(path, header, features, "features", keep_order=True)
        if overlap := [header[c] for c in features if c in targets or c in dropped]:
            raise ValueError(f"features: {overlap[0]!r} is also a target or dropped column")
    if not features:
        raise ValueError(f"{path}: no feature columns left besides the target(s)")
    for line, row in body:
        if len(row) != len(header):
            raise ValueError(f"{path}: line {line} has {len(row)} fields, the header has {len(header)}")
    X = _numbers(path, header, body, features, "a text column? leave it out with --drop {column}")
    kind, target_names, labels = "regression", tuple(header[c] for c in targets), ()
    if classify:
        Y, target_names, labels = _one_hot(path, header[targets[0]], [row[targets[0]] for _, row in body])
        kind = "classification"
    else:
        Y = _numbers(path, header, body, targets, "class labels? add --classify")
        if len(targets) == 1:
            _hint_classes(path, header[targets[0]], Y[:, 0])
    data = Dataset(X, Y, kind=kind, feature_names=tuple(header[c] for c in features),
                   target_names=target_names, labels=labels)
    return split(data, test_fraction, seed)


def read_inputs(path, features, targets=()):
    """From a CSV file with a header row: X from the columns named ``features`` (all columns
    when empty), and the rows' cells of the ``targets`` columns where the file has them all
    (else None)."""
    rows = _read_rows(path)
    (_, header), body = rows[0], rows[1:]
    if not body:
        raise ValueError(f"{path}: no data rows after the header")
    for line, row in body:
        if len(row) != len(header):
            raise ValueError(f"{path}: line {line} has {len(row)} fields, the header has {len(header)}")
    columns = _column_indices(path, header, list(features), "features", keep_order=True) if len(features) \
        else list(range(len(header)))
    X = _numbers(path, header, body, columns, "the net takes numbers there")
    if not targets or not all(t in header for t in targets):
        return X, None
    found = [header.index(t) for t in targets]
    return X, [[row[c] for c in found] for _, row in body]


def _hint_classes(path, column, y):
    """Warn when a regression target looks like class labels: whole numbers, at most 10
    different ones, in at least 20 rows."""
    values = np.unique(y)
    if y.size >= 20 and values.size <= 10 and np.all(values == np.round(values)):
        warnings.warn(f"{path}: {column!r} holds {values.size} different whole numbers in {y.size} rows; class "
                      f"labels? (--classify treats them so)", stacklevel=3)


def _numbers(path, header, body, columns, hint):
    """The float64 (rows, columns) block of ``columns``; a cell that is no number is named with
    ``hint`` (its {column} filled in)."""
    values = np.empty((len(body), len(columns)))
    for r, (line, row) in enumerate(body):
        for k, c in enumerate(columns):
            values[r, k] = _number(path, line, header[c], row[c], hint)
    return values


def split(data, test_fraction, seed=None, validation=False):
    """Hold out a seeded random share of the rows as the test set (``validation``: of the
    training rows as the validation set, X_val and Y_val)."""
    name = "validation_fraction" if validation else "test_fraction"
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"{name}: expected a number in [0, 1), got {test_fraction}")
    n_test = int(round(test_fraction * len(data.X)))
    if n_test == 0:
        return data
    if n_test == len(data.X):
        raise ValueError(f"{name}: {test_fraction} leaves no training rows")
    order = seeded_rng(seed).permutation(len(data.X))
    test, keep = order[:n_test], order[n_test:]
    if validation:
        data.X_val, data.Y_val = data.X[test], data.Y[test]
    else:
        data.X_test, data.Y_test = data.X[test], data.Y[test]
    data.X, data.Y = data.X[keep], data.Y[keep]
    return data


def _number(path, line, column, cell, hint):
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"{path}: line {line}, column {column!r}: {cell!r} is not a number "
                         f"({hint.format(column=column)})") from None
    if not math.isfinite(value):
        raise ValueError(f"{path}: line {line}, column {column!r}: {cell!r} is not finite")
    return value


def _one_hot(path, column, cells):
    """One-hot rows for class labels, the target names and the labels: numeric labels in
    numeric order, others as text in sorted order."""
    try:
        keys = [float(cell) for cell in cells]
        names = {key: f"{key:g}" for key in keys}
    except ValueError:
        keys = cells
        names = {key: key for key in keys}
    missing = next((i for i, key in enumerate(keys) if key != key or key == ""), None)  # NaN or empty
    if missing is not None:
        raise ValueError(f"{path}: {column!r} has no class label in data row {missing + 1} "
                         f"({cells[missing]!r}); give every row a label")
    labels, codes = np.unique(np.array(keys), return_inverse=True)
    n = len(cells)
    check_allocation("target", f"one-hot targets for the {labels.size} labels of {column!r}", 8 * n * labels.size)
    if labels.size > max(10, n // 10):
        warnings.warn(f"{path}: {column!r} has {labels.size} different labels in {n} rows; a continuous "
                      f"target? (leave out --classify for regression)", stacklevel=3)
    names = [names[key] for key in labels.tolist()]
    return np.eye(labels.size)[codes.ravel()], tuple(f"{column}={name}" for name in names), tuple(names)


CSV_BYTES_PER_BYTE = 12  # the rows as Python lists of strings, then floats: about this many bytes per byte of text


def _read_rows(path):
    """(line number, cells) of every non-blank row; a byte-order mark is dropped. A file whose
    rows would not fit in the free memory is refused before it is read."""
    if os.path.exists(path) and not os.path.isfile(path):
        raise ValueError(f"{path}: cannot read the file (not a regular file)")
    if os.path.isfile(path):
        size = os.path.getsize(path)
        check_allocation("data", f"reading {path} ({readable_bytes(size)} of text)", CSV_BYTES_PER_BYTE * size)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            rows = [(reader.line_num, row) for row in reader if row and any(cell.strip() for cell in row)]
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the file ({exc.strerror})") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path}: not a readable CSV text file ({exc})") from None
    if not rows:
        raise ValueError(f"{path}: the file is empty")
    return [(line, [cell.strip() for cell in row]) for line, row in rows]


def _column_indices(path, header, target, option="target", keep_order=False):
    """The indices of the columns ``target`` names (names or indices; sorted unless
    ``keep_order``); errors name ``option``."""
    wanted = [target] if isinstance(target, (str, int, np.integer)) else list(target)
    indices = []
    for t in wanted:
        if isinstance(t, str) and t.lstrip("-").isdigit():
            t = int(t)
        if isinstance(t, (int, np.integer)):
            if not -len(header) <= t < len(header):
                raise ValueError(f"{option}: column index {t} is out of range for {len(header)} columns")
            indices.append(int(t) % len(header))
        elif t in header:
            indices.append(header.index(t))
        else:
            shown = ", ".join(header[:5]) + (f", … ({len(header)} in all)" if len(header) > 5 else "")
            raise ValueError(f"{option}: no column named {t!r} in {path} (columns: {shown})")
    return list(dict.fromkeys(indices)) if keep_order else sorted(set(indices))
