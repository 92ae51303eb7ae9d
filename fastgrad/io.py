"""Atomic files: weights (.npz), JSON and any writer; a reader that names what is wrong."""
import json
import os
import tempfile
from contextlib import contextmanager

import numpy as np

from .model import MLP


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it over ``path`` only if the block succeeds."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    suffix = os.path.splitext(path)[1]
    try:
        fd, tmp = tempfile.mkstemp(prefix=".fastgrad-", suffix=suffix, dir=directory)
    except OSError as exc:
        raise ValueError(f"{path}: cannot write there ({exc.strerror})") from None
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_weights(path, net, **meta):
    """Write the architecture and theta to an .npz file, atomically; ``meta`` values are stored too."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, theta=net.theta, sizes=np.array(net.sizes), hidden=np.array(net.hidden),
                     output=np.array(net.output), meta=np.array(json.dumps(meta)))


def load_weights(path):
    """Read a net saved by ``save_weights``; returns (MLP, meta dict)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            net = MLP(f["sizes"].tolist(), hidden=f["hidden"].tolist(), output=str(f["output"]))
            net.set_theta(f["theta"])
            meta = json.loads(str(f["meta"])) if "meta" in f else {}
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the weights file ({exc.strerror or exc})") from None
    except (KeyError, ValueError, EOFError) as exc:
        raise ValueError(f"{path}: not a fastgrad weights file ({exc})") from None
    return net, meta


def write_json(path, data):
    """Write ``data`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            json.dump(data, f, indent=2, default=float)
            f.write("\n")


def write_text(path, text):
    """Write text, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            f.write(text)
