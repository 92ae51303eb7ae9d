"""The one way kernels are compiled: cached on disk, with numpy's floating-point error model.

error_model="numpy" lets a division by zero give inf or nan instead of raising, which
removes a branch from every division and lets the compiler vectorise the loops.

Every kernel is cached in ``CACHE_DIR`` (see ``cache_dir``: one directory per content of
the kernel sources, outside the package), whatever ``NUMBA_CACHE_DIR`` says: that stays the
user's, for their own functions. Where that directory cannot be written, or numba finds no
cache location for a kernel (a function without a source file), the kernel compiles in
memory instead of failing at import.

``@kernel`` is a unit that numba compiles (and caches) on its own. ``@helper`` is a small
piece of kernel code (a formula, an index computation): numba pastes it into every kernel
that calls it (inline="always") instead of compiling it on its own. A separately compiled
callee costs its own pipeline, optimisation, machine code and cache file, and then its code
is optimised and assembled again as part of every caller above it (numba links callees into
each caller's module). Pasting is no free lunch either: numba types the pasted code at every
call site, so large pieces with loops stay kernels.

A kernel that allocates nothing and is called often (the incremental job's per-entry work)
is *borrowing*: compiled without numba's reference counting (NRT), it reads its caller's
arrays as they are. With it, numba takes a reference to every array argument on entry and
drops it on return, atomic operations on every call.
"""
import contextlib

from numba import config, njit

from .cache_dir import CACHE_DIR, writable
from .robust_cache import make_robust

SETTINGS = {"cache": True, "error_model": "numpy"}
BORROWING = {"_nrt": False}  # numba's option: no reference counting (the kernel must allocate nothing)
CACHING = writable(CACHE_DIR)  # False: every kernel compiles in memory


@contextlib.contextmanager
def _numba_cache_dir(directory):
    """numba's cache directory is ``directory`` inside the block; numba reads it when a
    dispatcher with cache=True picks its cache location, at decoration."""
    before = config.CACHE_DIR
    config.CACHE_DIR = directory
    try:
        yield
    finally:
        config.CACHE_DIR = before


def compile_function(function, **options):
    """njit(function) with fastgrad's settings (``options`` on top), cached in CACHE_DIR where possible."""
    settings = {**SETTINGS, **options}
    if settings["cache"] and CACHING:
        try:
            with _numba_cache_dir(CACHE_DIR):  # the robust cache takes its location now, too
                return make_robust(njit(**settings)(function))
        except RuntimeError as exc:  # "cannot cache function ...: no locator available"
            if "no locator available" not in str(exc):
                raise
    return njit(**{**settings, "cache": False})(function)


def kernel(function=None, borrowing=False, **options):
    """``@kernel`` or ``@kernel(parallel=True)``: a kernel compiled on its own, on first call;
    ``borrowing=True``: one that allocates nothing, compiled without reference counting."""
    options = {**options, **BORROWING} if borrowing else options
    if function is None:
        return lambda f: compile_function(f, **options)
    return compile_function(function, **options)


def helper(function):
    """``@helper``: a piece of kernel code, compiled into each kernel that calls it (it can
    still be called from Python, for the tests)."""
    return compile_function(function, inline="always")
