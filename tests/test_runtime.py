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


@pytest.mark.slow
def test_unwritable_cache_directory_compiles_in_memory_and_writes_nothing_in_the_package(tmp_path):
    """FASTGRAD_CACHE_DIR where a file stands (this holds even for root, whom permission bits
    do not stop): kernels compile in memory, nothing fails, and no cache file appears in a
    copy of the package (nor in a NUMBA_CACHE_DIR, which is the user's)."""
    import os
    import shutil
    import subprocess
    import sys
    import fastgrad
    copy = tmp_path / "pkg" / "fastgrad"
    shutil.copytree(os.path.dirname(fastgrad.__file__), copy, ignore=shutil.ignore_patterns("__pycache__"))
    blocked = tmp_path / "blocked"
    blocked.write_text("not a directory")
    users = tmp_path / "numba-cache"
    code = ("import numpy as np, fastgrad as fg\n"
            "from fastgrad.kernels import elementary, jit\n"
            "assert fg.__file__.startswith(%r), fg.__file__\n"
            "net = fg.MLP([1, 3, 1], seed=0)\n"
            "g = fg.numerical_gradient(net, np.ones((4, 1)), np.zeros((4, 1)), backend='numba')\n"
            "assert fg.runtime_info()['threading_layer']  # starts the thread pool: one more kernel\n"
            "print(g.shape, jit.CACHING, type(elementary.tanh._cache).__name__)\n") % str(copy)
    env = dict(os.environ, PYTHONPATH=str(copy.parent), FASTGRAD_CACHE_DIR=str(blocked / "cache"),
               NUMBA_CACHE_DIR=str(users), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["(10,)", "False", "NullCache"] and "Traceback" not in proc.stderr
    left = [os.path.join(d, f) for root in (copy, users) for d, _, names in os.walk(root) for f in names
            if f.endswith((".nbi", ".nbc"))]
    assert left == []


def test_a_kernel_without_a_source_file_compiles_in_memory():
    """numba finds no cache location for a function defined from a string: no failure."""
    from fastgrad.kernels import jit
    namespace = {}
    exec("def twice(x):\n    return 2.0 * x\n", namespace)
    compiled = jit.compile_function(namespace["twice"])
    assert type(compiled._cache).__name__ == "NullCache"
    assert compiled(1.5) == 3.0
