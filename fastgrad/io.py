"""Atomic files: weights (.npz), JSON and any writer; a reader that names what is wrong.

Every failure is a ValueError naming the path: a command line prints it as one line.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import zipfile
import zlib
from contextlib import contextmanager
from typing import Sequence

import numpy as np

from .custom import Activation
from .model import MLP, check_net_memory
from .registry import ACTIVATION
from .validation import check_allocation


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``'s file; rename it over that file only if the block
    succeeds. A symbolic link is followed (the link stays, the file it names is replaced); the
    new file keeps the old one's permission bits (a new file gets the umask's); a path that is
    not a regular file (a device such as /dev/stdout, a FIFO) is written directly, never
    replaced."""
    path = os.fspath(path)
    target = os.path.realpath(path)
    try:
        if _not_a_file(path):
            yield path
            return
        with _temporary_beside(path, target) as tmp:
            yield tmp
            os.chmod(tmp, _mode_for(target))
            os.replace(tmp, target)
    except OSError as exc:  # a full disk, a vanished directory: the old file is untouched
        raise ValueError(f"{path}: cannot write ({exc.strerror or exc})") from None


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


def _not_a_file(path):
    """Whether ``path`` names something other than a regular file: a device, a FIFO, or a pipe
    named through /dev/stdout (stat follows the links, /proc's to a pipe too, where realpath
    gives a name that does not exist)."""
    return os.path.exists(path) and not os.path.isfile(path)


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
    if _not_a_file(path):
        return
    with _temporary_beside(path, target):
        pass


def check_outputs(outputs, inputs=(), replaces=()):
    """Before any work: every output path, given as (option, path) pairs (None: not asked
    for), must be writable, named once, and name no input file, except that an output may
    replace an input of the same kind: (output option, input option) in ``replaces``. Raise
    a ValueError naming the options otherwise; changes nothing."""
    outputs = [(option, os.fspath(path)) for option, path in outputs if path is not None]
    inputs = [(option, os.fspath(path)) for option, path in inputs if path is not None]
    seen = list(inputs)
    for option, path in outputs:
        if not path.strip():
            raise ValueError(f"{option}: expected a file name, got an empty one")
        if path == "-":  # standard output
            continue
        for other, earlier in seen:
            if (option, other) not in replaces and _same_file(path, earlier):
                what = "the input" if (other, earlier) in inputs else "the output"
                raise ValueError(f"{option} {path}: the same file as {what} {other} {earlier}; "
                                 f"choose another name")
        check_writable(path)
        seen.append((option, path))


FIGURE_FORMATS = ("png", "pdf", "svg")


def figure_format(option, path):
    """The figure format a path's extension names, or a ValueError naming ``option``."""
    extension = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if extension not in FIGURE_FORMATS:
        raise ValueError(f"{option} {path}: expected a figure file ending in "
                         f"{', '.join('.' + f for f in FIGURE_FORMATS)}")
    return extension


def _same_file(a, b):
    """Whether two paths name one regular file (existing or to be created); a device or FIFO
    (/dev/stdout) may be named twice."""
    ra, rb = os.path.realpath(a), os.path.realpath(b)
    if _not_a_file(a):
        return False
    return ra == rb or (os.path.exists(ra) and os.path.exists(rb) and os.path.samefile(ra, rb))


def save_weights(path: str | os.PathLike, net: MLP, **meta) -> None:
    """Write the architecture and theta to an .npz file, atomically; ``meta`` values are stored
    too. A custom activation is stored by its name (``load_weights`` takes it back)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, theta=net.theta, sizes=np.array(net.sizes), hidden=np.array([str(a) for a in net.hidden]),
                     output=np.array(str(net.output)), meta=np.array(json.dumps(meta)))


def load_weights(path: str | os.PathLike, activations: Sequence[Activation] = ()) -> tuple[MLP, dict]:
    """Read a net saved by ``save_weights``; returns (MLP, meta dict). A custom activation's
    name is resolved among ``activations`` (fastgrad.Activation objects). Each array's header
    is checked (kind, shape) before its data is read, so a small file declaring a huge array
    is refused at once; any other defect (not a zip, a bad checksum, a missing or
    mistyped field) is a ValueError naming the file."""
    strays = [a for a in activations if not isinstance(a, Activation)]
    if strays:
        raise ValueError(f"activations: expected fastgrad.Activation objects, got {type(strays[0]).__name__} "
                         f"{strays[0]!r}")
    custom = {a.name: a for a in activations}
    if os.path.exists(path) and not os.path.isfile(path):
        raise ValueError(f"{path}: cannot read the weights file (not a regular file)")
    try:
        with zipfile.ZipFile(path) as archive:
            sizes = _member(archive, "sizes", "iu", lambda shape: len(shape) == 1 and 2 <= shape[0] <= 1000)
            hidden = _member(archive, "hidden", "U", lambda shape: shape == (len(sizes) - 2,))
            output = _member(archive, "output", "U", lambda shape: shape == ())
            hidden = [_activation(a, custom) for a in hidden.tolist()]
            output = _activation(str(output), custom)
            n_params = check_net_memory([int(s) for s in sizes])
            # theta's header next: a small file declaring a huge net is refused before any net is built
            theta = _member(archive, "theta", "f", lambda shape: shape == (n_params,), 8 * n_params)
            has_meta = "meta.npy" in archive.namelist()
            meta = json.loads(str(_member(archive, "meta", "U", lambda shape: shape == ()))) if has_meta else {}
            net = MLP(sizes.tolist(), hidden=hidden, output=output)
            net.set_theta(theta)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the weights file ({exc.strerror or exc})") from None
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, KeyError, ValueError, TypeError,
            RuntimeError) as exc:
        raise ValueError(f"{path}: not a fastgrad weights file ({exc})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: not a fastgrad weights file (meta is not a mapping)")
    steps = meta.get("steps_done", 0)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"{path}: not a fastgrad weights file (steps_done is {steps!r}, not a count of steps)")
    return net, meta


def _activation(name, custom):
    """The activation a weights file names: a built-in's name, or the custom Activation of
    that name among ``custom`` (name -> Activation)."""
    if name in custom:
        return custom[name]
    if name not in ACTIVATION:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATION)} or a "
                         f"fastgrad.Activation named {name!r} in activations=")
    return name


def load_vector(path, name):
    """The 1-D array of real numbers in the .npy file ``path``, for the argument ``name``: a
    non-regular file (a FIFO would block) is refused, and the header (dtype, shape, memory) is
    checked before any data is read."""
    if not os.path.isfile(path):
        raise ValueError(f"{name}: cannot read {path} ({'not a regular file' if os.path.exists(path) else 'no such file'})")
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version not in _HEADER_READERS:
                raise ValueError(f".npy format {version}")
            shape, _, dtype = _HEADER_READERS[version](f)
            if len(shape) != 1 or dtype.kind not in "iuf" or dtype.hasobject:
                raise ValueError(f"expected a 1-D array of real numbers, got {dtype} shape {shape}")
            check_allocation(name, f"{shape[0]} numbers", 8 * shape[0])
        return np.load(path, allow_pickle=False)
    except (OSError, EOFError) as exc:  # EOFError: an empty file
        raise ValueError(f"{name}: cannot read {path} as a .npy array ({exc})") from None
    except ValueError as exc:
        message = str(exc)
        raise ValueError(message if message.startswith(name + ":") else
                         f"{name}: cannot read {path} as a .npy array ({message})") from None


_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _member(archive, name, kinds, shape_ok, max_bytes=1 << 20):
    """The array ``name`` of an .npz archive, read only after its header shows a dtype of one
    of ``kinds``, a shape that ``shape_ok`` accepts and at most ``max_bytes`` of data, all of
    which the member holds (its size in the archive's directory)."""
    stored = archive.getinfo(name + ".npy").file_size
    with archive.open(name + ".npy") as f:
        version = np.lib.format.read_magic(f)
        if version not in _HEADER_READERS:
            raise ValueError(f"field {name!r} is in .npy format {version}, which fastgrad does not write")
        shape, fortran_order, dtype = _HEADER_READERS[version](f)
        if dtype.kind not in kinds or dtype.hasobject or not shape_ok(shape):
            raise ValueError(f"field {name!r} has dtype {dtype} and shape {shape}, not what fastgrad writes")
        count = int(np.prod(shape))
        if count * dtype.itemsize > max_bytes:
            raise ValueError(f"field {name!r} declares {count * dtype.itemsize} bytes, more than fastgrad writes")
        if stored - f.tell() < count * dtype.itemsize:  # a small file declaring a large array
            raise ValueError(f"field {name!r} is truncated (it declares {count * dtype.itemsize} bytes and "
                             f"holds {stored - f.tell()})")
        check_allocation(name, f"field {name!r} of {shape} {dtype}", count * dtype.itemsize)
        data = f.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise ValueError(f"field {name!r} is truncated")
    array = np.frombuffer(data, dtype=dtype)
    return array.reshape(shape, order="F" if fortran_order else "C")


def write_json(path, data):
    """Write ``data`` as indented JSON, atomically; "-" is standard output. NaN and infinities
    are written as null (JSON has no such numbers)."""
    text = json.dumps(_finite(data), indent=2, allow_nan=False) + "\n"
    if os.fspath(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_text(path, text)


def _finite(value):
    """``value`` with numpy scalars and arrays as Python numbers and lists, non-finite floats as None."""
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_finite(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


def write_text(path, text):
    """Write text, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            f.write(text)
