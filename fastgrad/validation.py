"""Checks on user input: each raises a ValueError that names the argument and what was expected.

Arrays are converted to C-contiguous float64 (integer and boolean input is accepted
and converted; complex, object and string input is refused).
"""
import math
import os

import numpy as np

FLOAT64 = np.dtype(np.float64)  # numpy's native float64 dtype: `is` finds it faster than `==`


def as_real_array(name, value):
    """``value`` as a C-contiguous float64 array, if it holds real numbers."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged nested lists and the like
        raise ValueError(f"{name}: cannot be read as an array ({exc})") from None
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def as_float_matrix(name, value, n_cols):
    """``value`` as a finite (n, n_cols) float64 array; a 1-D array is taken as one column."""
    arr = float_matrix(name, value, n_cols)
    check_finite(name, arr)
    return arr


def float_matrix(name, value, n_cols, n_rows=None):
    """``value`` as an (n, n_cols) float64 array, C-contiguous, not checked for finiteness; a 1-D
    array is taken as one column. ``n_rows``: the n it must have (Y's is X's)."""
    if type(value) is np.ndarray and value.dtype is FLOAT64 and value.flags.c_contiguous:
        arr = value  # already so (the common case, checked in a fraction of a microsecond)
    else:
        arr = as_real_array(name, value)
    shape = arr.shape
    if len(shape) == 2 and shape[1] == n_cols and shape[0] and (n_rows is None or shape[0] == n_rows):
        return arr
    if len(shape) == 1 and n_cols == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[1] != n_cols:
        raise ValueError(f"{name}: expected shape (n, {n_cols}), got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one row, got none")
    if n_rows is not None and arr.shape[0] != n_rows:
        raise ValueError(f"{name}: expected {n_rows} rows to match X, got {arr.shape[0]}")
    return arr


def check_finite(name, arr):
    """Raise if the float array ``arr`` holds NaN or infinity, naming the first bad position.

    A sum of squares, x . x, is finite only if every x_i is (a NaN or an infinity makes it NaN
    or inf): one BLAS call, a microsecond less than ``isfinite`` for a small array and no
    temporary for a large one. Where it is not finite, entries above 1e154 may only have
    overflowed it, and the entries are tested one by one.
    """
    if math.isfinite(np.vdot(arr, arr)) or np.isfinite(arr).all():
        return
    where = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
    raise ValueError(f"{name}: non-finite value {arr[where]} at index {where if len(where) > 1 else where[0]}")


def positive_number(name, value):
    """A finite float > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name}: expected a positive number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name}: expected a finite number > 0, got {value!r}")
    return value


MIN_STEP = np.finfo(np.float64).tiny / np.finfo(np.float64).eps  # below: h eps is subnormal, digits are lost
MAX_STEP = math.sqrt(np.finfo(np.float64).max)  # above: h^2, the central rule's error scale, overflows


def difference_step(name, value):
    """A finite-difference step h in [MIN_STEP, MAX_STEP] (about 1e-292 to 1.3e154)."""
    value = positive_number(name, value)
    if not MIN_STEP <= value <= MAX_STEP:
        raise ValueError(f"{name}: a finite-difference step must lie in [{MIN_STEP:.3g}, {MAX_STEP:.3g}], got "
                         f"{value!r} ({'subnormal digits' if value < MIN_STEP else 'its square overflows'})")
    return value


def positive_int(name, value):
    """An int >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
    return int(value)


def check_allocation(name, what, n_bytes):
    """Refuse, before allocating it, memory beyond what this machine has free: a ValueError
    naming the argument ``name``, ``what`` it asks for, and the size that would need."""
    available = available_memory()
    if n_bytes > available:
        raise ValueError(f"{name}: {what} would need {readable_bytes(n_bytes)} of memory; this machine has "
                         f"{readable_bytes(available)} free")


def physical_memory():
    """Bytes of RAM, or infinity where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return math.inf


def available_memory():
    """Bytes that can be allocated now without swapping: MemAvailable (Linux), else the RAM."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return physical_memory()


def readable_bytes(n):
    """1.6e+25 -> '1.6e+25 bytes', 3.2e9 -> '3.2 GB'."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if 1 <= n / size < 1000:
            return f"{n / size:.3g} {unit}"
    return f"{n:.2g} bytes"


def check_seed(seed):
    """A seed: None (fresh entropy) or an integer >= 0."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed: expected an integer >= 0 or None, got {seed!r}")
    return seed


def seeded_rng(seed):
    """numpy's default generator for a checked ``seed``."""
    return np.random.default_rng(check_seed(seed))


def choice(name, value, allowed):
    """``value`` if it is one of ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name}: unknown value {value!r}; expected one of {', '.join(allowed)}")
    return value
