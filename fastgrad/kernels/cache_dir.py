"""Where the kernels are cached: one directory per content of the kernel sources.

numba checks a cached kernel against its own source file only, while fastgrad's templates
paste helpers from other files into a kernel. So every kernel is cached under one directory
whose name is a hash of every kernel source file (each ``.py`` under ``fastgrad/kernels/``,
by path relative to it and content, and ``fastgrad/registry.py``, which installs the
activations' codes into them) and of Python's and numba's versions: an edit or an
upgrade of any of them names a fresh directory, and no stale kernel can load. The directory
lies outside the package (nothing is left behind in site-packages):

    $FASTGRAD_CACHE_DIR/kernels-<hash>, else ($XDG_CACHE_HOME or ~/.cache)/fastgrad/kernels-<hash>

Every process of one installation (xdist workers, subprocesses, users) shares it.
"""
import hashlib
import os
import shutil
import sys
import tempfile

import numba

KERNEL_SOURCES = os.path.dirname(os.path.abspath(__file__))
PREFIX = "kernels-"


REGISTRY = os.path.join(os.path.dirname(KERNEL_SOURCES), "registry.py")  # hands the kernels mixed's codes


def source_files(root=KERNEL_SOURCES):
    """Every ``.py`` file under ``root``, sorted by path."""
    return sorted(os.path.join(directory, name) for directory, _, names in os.walk(root)
                  for name in names if name.endswith(".py"))


def content_hash(files=None, root=KERNEL_SOURCES):
    """sha256 (first 16 hex digits) of Python's and numba's versions, of each file's path
    relative to ``root`` and its bytes (``files``: by default ``source_files(root)``), and of
    the registry's bytes."""
    digest = hashlib.sha256(f"{sys.implementation.name} {sys.version_info[:3]} numba {numba.__version__}".encode())
    named = [(os.path.relpath(path, root), path) for path in (source_files(root) if files is None else files)]
    for name, path in named + ([("../registry.py", REGISTRY)] if os.path.exists(REGISTRY) else []):
        with open(path, "rb") as source:
            content = source.read()
        digest.update(b"\0%s\0%d\0" % (name.replace(os.sep, "/").encode(), len(content)))
        digest.update(content)
    return digest.hexdigest()[:16]


def cache_root():
    """The parent of the kernel cache directories: $FASTGRAD_CACHE_DIR, else the user's cache
    directory ($XDG_CACHE_HOME, else ~/.cache) / fastgrad."""
    if os.environ.get("FASTGRAD_CACHE_DIR"):
        return os.path.abspath(os.path.expanduser(os.environ["FASTGRAD_CACHE_DIR"]))
    user = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.path.abspath(user), "fastgrad")


def writable(directory):
    """Whether ``directory`` exists or can be created, and a file can be written in it."""
    try:
        os.makedirs(directory, exist_ok=True)
        tempfile.TemporaryFile(dir=directory).close()
    except OSError:
        return False
    return True


def clear_cache(root=None):
    """Remove every kernel cache directory (``kernels-*``, of any hash) under ``root``
    (default: the parent of CACHE_DIR); return the number of files removed. A process that
    compiles afterwards creates its directory again."""
    root = os.path.dirname(CACHE_DIR) if root is None else root
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return 0
    removed = 0
    for name in names:
        path = os.path.join(root, name)
        if name.startswith(PREFIX) and os.path.isdir(path) and not os.path.islink(path):
            removed += sum(len(files) for _, _, files in os.walk(path))
            shutil.rmtree(path)
    return removed


CACHE_DIR = os.path.join(cache_root(), PREFIX + content_hash())
