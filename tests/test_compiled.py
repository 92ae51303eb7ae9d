"""Threads, runtime facts and compile errors kept from users."""
import numba
import numpy as np
import pytest

import fastgrad as fg
from fastgrad import compiled


def test_runtime_info_names_threads_and_layer():
    info = fg.runtime_info()
    assert info["num_threads"] == fg.get_num_threads()
    assert info["threading_layer"] in ("omp", "tbb", "workqueue")
    assert info["numba"] == numba.__version__


def test_set_num_threads(restore_threads):
    fg.set_num_threads(1)
    assert fg.get_num_threads() == 1
    for bad in [0, numba.config.NUMBA_NUM_THREADS + 1, 1.5, True]:
        with pytest.raises(ValueError, match=r"threads: expected an integer from 1 to"):
            fg.set_num_threads(bad)


def test_compile_failure_becomes_one_line_kernel_error():
    @numba.njit
    def needs_numbers(x):
        return x + 1.0

    with pytest.raises(fg.KernelError) as info:
        compiled.call(needs_numbers, np.array(["text"]))
    message = str(info.value)
    assert message.startswith("compiling kernel 'needs_numbers' failed (TypingError")
    assert "\n" not in message and "backend='numpy'" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
