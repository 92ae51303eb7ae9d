"""The one way kernels are compiled: cached on disk, with numpy's floating-point error model.

error_model="numpy" lets a division by zero give inf or nan instead of raising, which
removes a branch from every division and lets the compiler vectorise the loops. Where
numba finds no writable cache location for a kernel's source file, the kernel compiles in
memory instead of failing at import.

``@kernel`` is a unit that numba compiles (and caches) on its own. ``@helper`` is a small
piece of kernel code (a formula, an index computation): numba pastes it into every kernel
that calls it (inline="always") instead of compiling it on its own. A separately compiled
callee costs its own pipeline, optimisation, machine code and cache file, and then its code
is optimised and assembled again as part of every caller above it (numba links callees into
each caller's module). Pasting is no free lunch either: numba types the pasted code at every
call site, so large pieces with loops stay kernels. Measured on the default training kernel
(cold, 2 cores): 23 s with every helper compiled on its own, 15 s with the small ones pasted.

A kernel that allocates nothing and is called often (the incremental job's per-entry work)
is *borrowing*: compiled without numba's reference counting (NRT), it reads its caller's
arrays as they are. With it, numba takes a reference to every array argument on entry and
drops it on return, atomic operations that cost about 100 ns a call (measured in one process
when that kernel was called once per entry: 219 against 122 ns per entry at the textbook size
[1,10,1], n = 25; it now loops over a share's entries in one call).
"""
from numba import njit

from .robust_cache import make_robust

SETTINGS = {"cache": True, "error_model": "numpy"}
BORROWING = {"_nrt": False}  # numba's option: no reference counting (the kernel must allocate nothing)


def compile_function(function, **options):
    """njit(function) with fastgrad's settings (``options`` on top), caching where possible."""
    settings = {**SETTINGS, **options}
    try:
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
