"""Atomic files: weights (.npz), JSON and any writer; a reader that names what is wrong."""
import json
import os
import tempfile
from contextlib import contextmanager

import numpy as np

from .model import MLP


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``'s file; rename it over that file only if the block
    succeeds. A symbolic link is followed (the link stays, the file it names is replaced); the
    new file keeps the old one's permission bits (a new file gets the umask's); a path that is
    not a regular file (a device such as /dev/stdout, a FIFO) is written directly, never
    replaced."""
    path = os.fspath(path)
    target = os.path.realpath(path)
    if os.path.exists(target) and not os.path.isfile(target):
        yield path
        return
    with _temporary_beside(path, target) as tmp:
        yield tmp
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)


@contextmanager
def _temporary_beside(path, target):
    """A temporary file in ``target``'s directory, removed unless renamed; a ValueError naming
    ``path`` if that directory cannot be written."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".fastgrad-", suffix=os.path.splitext(target)[1],
                                   dir=os.path.dirname(target))
    except OSError as exc:
        raise ValueError(f"{path}: cannot write there ({exc.strerror})") from None
    os.close(fd)
    try:
        yield tmp
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _mode_for(target):
    """The permission bits a file written at ``target`` gets: the existing file's, else the umask's."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def check_writable(path):
    """Raise a ValueError naming ``path`` if a file cannot be written there; changes nothing."""
    path = os.fspath(path)
    target = os.path.realpath(path)
    if os.path.exists(target) and not os.path.isfile(target):
        return
    with _temporary_beside(path, target):
        pass


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
