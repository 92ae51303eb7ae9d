"""Disk caches for a user's numba function defined in a file, keyed by its source.

numba keys a cached kernel by its own bytecode and checks it against its own file's stamp
only: the compiled loop around a user's function (``kernels/any_function.py``) would load
unchanged after that function changed, and a function compiled with the values of the
globals it reads (numba freezes them) would load after they changed. ``cache(function)`` opts
a function in to a cache keyed by ``key``: a hash of

- the function's file (path and bytes: its helpers and constants there), qualified name and
  first line;
- the globals that its code names, as numba freezes them: an array's dtype, shape and bytes, the
  value of a number, string, dtype, numba type or tuple of those, a module's, class's or
  function's name and its defining file's bytes, and another numba function's own key (helpers
  from other files).

A changed file, array or helper gives a new key, so no stale loop or function can load. A
function that cannot be keyed so keeps compiling in memory: a closure (cell variables), one
without a source file (a REPL's, ``exec``'s), one naming a global of any other kind, and one
whose module is not imported under its name (``sys.modules``): numba imports that module to
rebuild a cached function.

Keyed, the loops bound to the function are cached with the other kernels (``CACHE_DIR``),
named after the key (``specialise.KEYS``), and the function itself, where not cached
already by its own ``cache=True``, under ``CACHE_DIR/functions/<key>`` (never beside the
user's file). An unwritable cache directory leaves both compiling in memory.
"""
from __future__ import annotations

import hashlib
import os
import re
import sys
import types

import numpy as np
from numba.core import types as numba_types
from numba.core.caching import NullCache
from numba.core.registry import CPUDispatcher

from .kernels import specialise
from .kernels.cache_dir import CACHE_DIR
from .kernels.jit import CACHING, _numba_cache_dir
from .kernels.robust_cache import make_robust

FUNCTIONS = os.path.join(CACHE_DIR, "functions")  # the users' functions, one directory per key
PLAIN = (bool, int, float, complex, str, bytes, type(None), np.generic, np.dtype, numba_types.Type)


def key(function) -> str | None:
    """The source key of numba function ``function`` (16 hex digits), or None where it cannot
    be keyed safely (module docstring), as for anything but a numba function."""
    digest = hashlib.sha256()
    keyed = isinstance(function, CPUDispatcher) and _feed(digest, function, set())
    return digest.hexdigest()[:16] if keyed else None


def cache(function):
    """Opt ``function`` in to the disk cache under its source key (module docstring); return it.

    Anything but a numba function, or one that cannot be keyed, is returned as it is and
    compiles in memory wherever it is compiled."""
    found = key(function)
    if found is None or not CACHING:
        return function
    if isinstance(function._cache, NullCache):  # not cached by the user's own cache=True
        with _numba_cache_dir(os.path.join(FUNCTIONS, found)):  # the cache takes its location now
            function.enable_caching()
            make_robust(function)
    name = re.sub(r"\W", "_", function.py_func.__qualname__)
    specialise.KEYS[function] = f"{name}_{found}"  # an identifier: numba names parallel loops after it
    return function


def _feed(digest, function, seen):
    """Hash numba function ``function`` and what it reads into ``digest``; False where it
    cannot be keyed. ``seen``: the functions already fed (a recursion is fed once)."""
    if function in seen:
        return True
    seen.add(function)
    code = function.py_func.__code__
    module = sys.modules.get(function.py_func.__module__)
    if getattr(module, "__dict__", None) is not function.py_func.__globals__:  # numba reloads it by name
        return False
    if function.py_func.__closure__ or not _feed_file(digest, code.co_filename):
        return False
    digest.update(f"\0{function.py_func.__qualname__}\0{code.co_firstlineno}\0".encode())
    digest.update(repr(sorted(function.targetoptions.items())).encode())  # fastmath=, error_model=, ...
    namespace = function.py_func.__globals__
    return all(_feed_value(digest, name, namespace[name], seen) for name in sorted(_names(code)) if name in namespace)


def _names(code):
    """The names that ``code`` and the functions defined in it refer to."""
    found = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            found |= _names(constant)
    return found


def _feed_value(digest, name, value, seen):
    """Hash global ``name``, as numba freezes ``value``, into ``digest``; False for a kind that
    cannot be keyed."""
    digest.update(f"\0{name}\0{type(value).__module__}.{type(value).__qualname__}\0".encode())
    if isinstance(value, CPUDispatcher):
        return _feed(digest, value, seen)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufcmM":
            return False
        digest.update(f"{value.dtype.str}{value.shape}".encode())
        digest.update(np.ascontiguousarray(value).view(np.uint8).data)
        return True
    if isinstance(value, PLAIN) or (isinstance(value, tuple) and all(isinstance(v, PLAIN) for v in value)):
        digest.update(repr(value).encode())
        return True
    if isinstance(value, types.FunctionType):
        digest.update(value.__qualname__.encode())
        return _feed_file(digest, value.__code__.co_filename)
    if isinstance(value, (types.ModuleType, type, types.BuiltinFunctionType, np.ufunc)):
        module = value if isinstance(value, types.ModuleType) else sys.modules.get(value.__module__)
        if module is None:  # defined in a module that is not imported (a file loaded by path)
            return False
        digest.update(f"{module.__name__}.{getattr(value, '__qualname__', value.__name__)}".encode())
        path = getattr(module, "__file__", None)
        return path is None or _feed_file(digest, path)  # None: built into Python
    return False


def _feed_file(digest, path):
    """Hash file ``path`` (its absolute path and bytes) into ``digest``; False where it cannot
    be read (a REPL's "<stdin>")."""
    try:
        with open(path, "rb") as source:
            content = source.read()
    except OSError:
        return False
    digest.update(b"\0%s\0%d\0" % (os.path.abspath(path).encode(), len(content)))
    digest.update(content)
    return True
