"""A broken kernel cache file costs a recompile and one warning line, never a failed run; an
unwritable cache leaves the kernels compiled in memory."""
import errno
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from fastgrad.kernels import robust_cache
from fastgrad.kernels.jit import kernel

PROBE = """
import numpy as np
import fastgrad as fg
net = fg.MLP([1, 4, 1], seed=1)
X = np.linspace(-1, 1, 7)[:, None]
print(repr(fg.loss(net, X, np.sin(X))))  # the loss kernel: the cheapest to compile
"""


def _run(cache):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "FASTGRAD_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), done.stderr


def _truncate(data):
    return data[:100]


def _zero(data):
    return bytes(len(data))


def _flip(data):
    data = bytearray(data)
    for k in range(7, len(data), max(1, len(data) // 9)):
        data[k] ^= 0xA5
    return bytes(data)


@pytest.mark.parametrize("damage", [_truncate, pytest.param(_zero, marks=pytest.mark.slow),
                                    pytest.param(_flip, marks=pytest.mark.slow)])
def test_a_broken_cache_file_is_dropped_and_the_kernel_recompiled(tmp_path, damage):
    expected, _ = _run(tmp_path)
    files = sorted(tmp_path.rglob("*.nbc")) + sorted(tmp_path.rglob("*.nbi"))
    assert files
    for path in files:
        path.write_bytes(damage(path.read_bytes()))
    again, stderr = _run(tmp_path)
    assert again == expected
    assert stderr.count("broken kernel cache entry") == 1  # one line, however many files
    assert "Traceback" not in stderr
    healed, stderr = _run(tmp_path)
    assert healed == expected and "broken" not in stderr


def test_a_cache_that_cannot_be_written_warns_once_and_runs_from_memory(monkeypatch, tmp_path):
    from numba.core import caching
    monkeypatch.setattr(caching.config, "CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(robust_cache, "_WARNED", set())

    def full_disk(self, filepath):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(caching.IndexDataCacheFile, "_open_for_write", full_disk)

    def twice(x):  # a kernel of this test only, so that it compiles here
        return 2.0 * x
    compiled = kernel(twice)
    assert isinstance(compiled._cache, robust_cache.RobustCache)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert compiled(np.float64(3.0)) == 6.0
        assert compiled(np.int64(3)) == 6.0  # a second signature: no second warning
    messages = [str(w.message) for w in caught if issubclass(w.category, robust_cache.KernelCacheWarning)]
    assert len(messages) == 1 and "No space left on device" in messages[0]
    assert not list(Path(tmp_path).rglob("*.nbc"))
