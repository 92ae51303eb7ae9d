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


def test_cache_status_and_warm_up():
    seconds = compiled.warm_up()
    cached, total, directory = compiled.cache_status()
    assert seconds > 0 and total == 7 and 0 <= cached <= total
    assert "entry kernels cached in" in fg.runtime_info()["kernel_cache"]


def test_unwritable_cache_directory_falls_back_to_compiling(tmp_path):
    """A cache directory that cannot be created or written: kernels compile, nothing fails."""
    import os
    import subprocess
    import sys
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code = ("import numpy as np, fastgrad as fg; net = fg.MLP([1, 3, 1], seed=0); "
            "g = fg.numerical_gradient(net, np.ones((4, 1)), np.zeros((4, 1)), backend='numba'); "
            "print(g.shape)")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(blocker / "cache"))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "(10,)" and "Traceback" not in proc.stderr
