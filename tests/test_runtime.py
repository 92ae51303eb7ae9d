"""Threads, runtime facts, compile errors kept from users, and the compile watch."""
import numba
import numpy as np
import pytest

import fastgrad as fg
from fastgrad import runtime


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
        runtime.call(needs_numbers, np.array(["text"]))
    message = str(info.value)
    assert message.startswith("compiling kernel 'test_compile_failure_becomes_one_line_kernel_error.<locals>."
                              "needs_numbers' failed (TypingError")
    assert "\n" not in message and "backend='numpy'" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_compile_watch_sees_compiles_not_calls():
    @numba.njit
    def inner(x):
        return 2.0 * x

    @numba.njit
    def outer(x):
        return inner(x) + 1.0

    started = []
    with runtime.CompileWatch(on_first=lambda: started.append(True)) as watch:
        assert outer(1.0) == 3.0
        assert outer(2.0) == 5.0  # compiled already: no event
    assert started == [True]
    assert [name for name, _ in watch.compiled] == ["test_compile_watch_sees_compiles_not_calls.<locals>.outer"]
    assert watch.seconds > 0 and not watch.busy
    assert {n.rsplit(".", 1)[-1] for n in watch.every} == {"outer", "inner"}
    with runtime.CompileWatch() as again:
        outer(3.0)
    assert again.compiled == [] and again.seconds == 0


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


def test_no_writable_cache_location_anywhere_compiles_in_memory(tmp_path):
    """A copy of the package where numba can write no cache at all: not NUMBA_CACHE_DIR, not
    the package's __pycache__ (a file stands where each would go — this holds even for root,
    whom permission bits do not stop), not the user's cache directory. numba then raises "no
    locator available" when a cached kernel is decorated; the kernels must compile in memory."""
    import os
    import shutil
    import subprocess
    import sys
    import fastgrad
    copy = tmp_path / "pkg" / "fastgrad"
    shutil.copytree(os.path.dirname(fastgrad.__file__), copy, ignore=shutil.ignore_patterns("__pycache__"))
    for directory, _, _ in os.walk(copy):
        with open(os.path.join(directory, "__pycache__"), "w") as blocker:
            blocker.write("not a directory")
    blocked = tmp_path / "blocked"
    blocked.write_text("not a directory")
    code = ("import numpy as np, fastgrad as fg\n"
            "from fastgrad.kernels import elementary\n"
            "assert fg.__file__.startswith(%r), fg.__file__\n"
            "net = fg.MLP([1, 3, 1], seed=0)\n"
            "g = fg.numerical_gradient(net, np.ones((4, 1)), np.zeros((4, 1)), backend='numba')\n"
            "assert fg.runtime_info()['threading_layer']  # starts the thread pool: one more kernel\n"
            "print(g.shape, type(elementary.tanh._cache).__name__)\n") % str(copy)
    env = dict(os.environ, PYTHONPATH=str(copy.parent), NUMBA_CACHE_DIR=str(blocked / "cache"),
               HOME=str(blocked / "home"), XDG_CACHE_HOME=str(blocked / "xdg"), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["(10,)", "NullCache"] and "Traceback" not in proc.stderr
