"""Running the compiled kernels: threads, compile errors kept from users, and compile events.

This is the bottom of the Python layer: it imports nothing from the rest of fastgrad but the
kernels' compile settings (kernels/, which import nothing from fastgrad).
"""
from __future__ import annotations

import re
import threading
import time

import numba
import numpy as np
from numba.core import event
from numba.core.errors import NumbaError

from .kernels.jit import kernel


class KernelError(RuntimeError):
    """A compiled kernel could not be built; the message says which and suggests a fallback."""


def kernel_name(kernel):
    """A kernel's name as the specialiser spelt it (``backprop.tanh.identity.mse``)."""
    function = getattr(kernel, "py_func", kernel)
    return getattr(function, "__qualname__", None) or repr(kernel)


def call(kernel, *args):
    """kernel(*args), turning a numba compile failure into a one-line KernelError."""
    try:
        return kernel(*args)
    except NumbaError as exc:
        raise KernelError(
            f"compiling kernel {kernel_name(kernel)!r} failed ({type(exc).__name__}: {numba_reason(exc)}); "
            "backend='numpy' runs without compiled code") from None


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def numba_reason(exc):
    """The line of a numba error that says what went wrong: its first lines name the pipeline
    stage ("Failed in nopython mode pipeline ..."), its last ones where ("During: ...", "File ...")."""
    lines = [_ANSI.sub("", line).strip() for line in str(exc).splitlines()]
    useful = [line for line in lines if line and not line.startswith(("Failed in", "During:", "File ", "^", ">>>"))]
    return useful[0] if useful else type(exc).__name__


def set_num_threads(n: int) -> None:
    """Use ``n`` threads (1 .. the number numba started with) for the parallel backends."""
    limit = numba.config.NUMBA_NUM_THREADS
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= limit:
        raise ValueError(f"threads: expected an integer from 1 to {limit}, got {n!r}")
    numba.set_num_threads(int(n))


def get_num_threads() -> int:
    """Threads the parallel backends use now."""
    return numba.get_num_threads()


def max_threads():
    """Threads numba started with (NUMBA_NUM_THREADS)."""
    return numba.config.NUMBA_NUM_THREADS


def threading_layer(start=True):
    """Numba's threading layer; if no parallel kernel has run yet, start the pool (compiling a
    tiny parallel kernel once) or, with ``start=False``, say so."""
    try:
        return numba.threading_layer()
    except ValueError:
        if not start:
            return "not started"
        call(_touch_pool, np.ones(2))
        return numba.threading_layer()


@kernel(parallel=True)
def _touch_pool(x):
    total = 0.0
    for i in numba.prange(x.shape[0]):
        total += x[i]
    return total


def _failed(ev):
    """Whether a numba end event carries an exception. (Event.is_failed cannot tell: in numba
    0.68 it answers True for every event.)"""
    details = getattr(ev, "_exc_details", None)
    return bool(details) and details[0] is not None


class CompileWatch(event.Listener):
    """Watches numba compile (not cache loads) while installed: ``compiled`` lists the
    kernels compiled at the top level with their seconds, ``every`` the names of all
    functions compiled on the way; ``on_first`` is called once, when the first compile
    starts (from the compiling thread)."""

    def __init__(self, on_first=None):
        self.on_first = on_first
        self.compiled = []  # (kernel name, seconds), in order
        self.every = []     # names of every function compiled, callees included
        self.failed = False  # a compile ended in an error or an interrupt
        self._depth = 0
        self._started = None
        self._lock = threading.Lock()

    @property
    def seconds(self):
        return sum(s for _, s in self.compiled)

    @property
    def busy(self):
        """Whether a compile is under way now."""
        return self._depth > 0

    def on_start(self, ev):
        with self._lock:
            self._depth += 1
            if self._depth > 1:
                return
            self._started = time.perf_counter()
            first = not self.compiled
        if first and self.on_first is not None:
            self.on_first()

    def on_end(self, ev):
        with self._lock:
            self._depth -= 1
            name = kernel_name(ev.data["dispatcher"])
            if _failed(ev):  # an error, or Ctrl-C, stopped the compile
                self.failed = True
                return
            self.every.append(name)
            if self._depth == 0:
                self.compiled.append((name, time.perf_counter() - self._started))

    def __enter__(self):
        event.register("numba:compile", self)
        return self

    def __exit__(self, *exc):
        event.unregister("numba:compile", self)
        return False
