"""A kernel cache that no broken or unwritable file can break.

numba loads a cached kernel by unpickling its index (``<name>.nbi``) and data (``<name>.N.nbc``)
files and rebuilding the machine code from them. A truncated, zeroed or bit-flipped file makes
that raise (an UnpicklingError, an EOFError, an LLVM bitcode error) on every later run; a full
or read-only disk makes saving raise. ``RobustCache`` is numba's per-function cache with two
rules on top:

- a load that fails for any reason but an interrupt is a miss: the kernel's cache files are
  removed and the kernel compiles (and is saved) afresh; the first such kernel of a run gets
  one warning line;
- a save that fails leaves the kernel compiled in memory for this run, with one warning line
  per run (never an error).
"""
from __future__ import annotations

import glob
import os
import warnings

from numba.core.caching import FunctionCache


class KernelCacheWarning(RuntimeWarning):
    """fastgrad's kernel cache could not be read or written; the kernels compile instead."""


_WARNED = set()  # what was reported this run: "load", and the directories a save failed in


class RobustCache(FunctionCache):
    """numba's FunctionCache, with failed loads as misses and failed saves as warnings."""

    def _files(self):
        base = os.path.join(self._cache_path, self._impl.filename_base)
        return [base + ".nbi"] + glob.glob(glob.escape(base) + ".*.nbc")

    def _drop(self, exc):
        for path in self._files():
            try:
                os.unlink(path)
            except OSError:
                pass
        if "load" in _WARNED:
            return
        _WARNED.add("load")
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        warnings.warn(f"fastgrad: a broken kernel cache entry was removed and the kernel is being recompiled "
                      f"({self._impl.filename_base}: {type(exc).__name__}{': ' + reason if reason else ''})",
                      KernelCacheWarning, stacklevel=2)

    def load_overload(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except Exception as exc:  # a corrupt file raises anything; an interrupt is no Exception
            self._drop(exc)
            return None

    def save_overload(self, sig, data):
        try:
            super().save_overload(sig, data)
        except OSError as exc:
            if self._cache_path not in _WARNED:
                _WARNED.add(self._cache_path)
                warnings.warn(f"fastgrad: cannot write the kernel cache in {self._cache_path} ({exc.strerror or exc}); "
                              "kernels compile in memory this run", KernelCacheWarning, stacklevel=2)
        except Exception as exc:  # a corrupt index, read before the save: start the entry afresh
            self._drop(exc)
            try:
                super().save_overload(sig, data)
            except Exception:  # still unwritable: the kernel runs from memory
                pass


def make_robust(dispatcher):
    """Give a dispatcher compiled with cache=True a RobustCache (same location, same files)."""
    if isinstance(dispatcher._cache, FunctionCache):
        dispatcher._cache = RobustCache(dispatcher.py_func)
    return dispatcher
