"""The kernel cache: one directory keyed by the content of the kernel sources, shared by
processes, outside the package, and clearable."""
import os
import shutil
import subprocess
import sys

import numba
import pytest

import fastgrad
from fastgrad.kernels import cache_dir, elementary, jit
from fastgrad.kernels.cache_dir import CACHE_DIR, cache_root, clear_cache, content_hash, source_files

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(fastgrad.__file__)))


@pytest.fixture
def kernel_sources(tmp_path):
    """A copy of fastgrad/kernels/ (sources only)."""
    copy = tmp_path / "kernels"
    shutil.copytree(cache_dir.KERNEL_SOURCES, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_hash_is_of_content_not_location(kernel_sources):
    assert CACHE_DIR == os.path.join(cache_root(), "kernels-" + content_hash())
    assert content_hash(root=str(kernel_sources)) == content_hash()
    assert [os.path.relpath(p, kernel_sources) for p in source_files(str(kernel_sources))] == \
        [os.path.relpath(p, cache_dir.KERNEL_SOURCES) for p in source_files()]
    assert os.path.join("activations", "tanh.py") in [os.path.relpath(p, kernel_sources)
                                                      for p in source_files(str(kernel_sources))]


def test_hash_changes_with_any_kernel_source(kernel_sources):
    """A helper file pasted into kernels (activations/tanh.py), a new file, a renamed file."""
    root = str(kernel_sources)
    before = content_hash(root=root)
    tanh = kernel_sources / "activations" / "tanh.py"
    tanh.write_text(tanh.read_text() + "\n# an edit\n")
    edited = content_hash(root=root)
    (kernel_sources / "losses" / "new.py").write_text("")
    added = content_hash(root=root)
    (kernel_sources / "losses" / "new.py").rename(kernel_sources / "losses" / "renamed.py")
    renamed = content_hash(root=root)
    assert len({before, edited, added, renamed}) == 4


def test_hash_covers_numba_version(monkeypatch):
    before = content_hash()
    monkeypatch.setattr(numba, "__version__", "0.0.0")
    assert content_hash() != before


def test_cache_root_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("FASTGRAD_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == str(tmp_path / "xdg" / "fastgrad")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == str(tmp_path / "home" / ".cache" / "fastgrad")
    monkeypatch.setenv("FASTGRAD_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_root() == str(tmp_path / "mine")


def test_kernels_of_this_process_cache_in_cache_dir():
    if not jit.CACHING:
        pytest.skip(f"the cache directory {CACHE_DIR} is not writable here: kernels compile in memory")
    path = elementary.tanh._cache._cache_path  # numba internals: where the index and data files go
    assert os.path.commonpath([path, CACHE_DIR]) == CACHE_DIR
    assert numba.config.CACHE_DIR != CACHE_DIR  # set only while fastgrad's kernels are decorated


_RUN = """
import os, numba, numpy as np
from fastgrad.kernels import elementary
from fastgrad.kernels.cache_dir import CACHE_DIR

@numba.njit(cache=True)
def users_own(x):
    return x + 1.0

assert elementary.tanh(0.25) == elementary.tanh(0.25) and users_own(1.0) == 2.0
print(CACHE_DIR, elementary.tanh.stats.cache_hits[elementary.tanh.signatures[0]])
"""


def _run(script, env):
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=600,
                          cwd=PACKAGE_PARENT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    directory, hits = proc.stdout.split()
    return directory, int(hits)


def _files(directory):
    return sorted(os.path.relpath(os.path.join(d, f), directory) for d, _, names in os.walk(directory)
                  for f in names)


def test_processes_share_the_cache_and_a_users_numba_cache_dir_stays_theirs(tmp_path):
    """A first process compiles into $FASTGRAD_CACHE_DIR/kernels-<hash>, a second loads from
    it; a user's own cached function still goes to their NUMBA_CACHE_DIR; clear_cache
    removes fastgrad's kernels (every hash) and nothing else."""
    root, users = tmp_path / "fastgrad-cache", tmp_path / "numba-cache"
    env = dict(os.environ, FASTGRAD_CACHE_DIR=str(root), NUMBA_CACHE_DIR=str(users),
               PYTHONPATH=PACKAGE_PARENT)
    script = tmp_path / "users_script.py"  # numba caches a function only if it has a source file
    script.write_text(_RUN)
    directory, hits = _run(script, env)
    assert directory == str(root / ("kernels-" + content_hash())) and hits == 0
    written = _files(directory)
    assert any(f.endswith(".nbi") and "elementary.tanh-" in f for f in written)
    assert any(f.endswith(".nbc") for f in written)
    assert any("users_own" in f for f in _files(users)) and not any("users_own" in f for f in written)
    assert _run(script, env) == (directory, 1)  # loaded, not compiled

    stale = root / "kernels-0123456789abcdef"
    stale.mkdir()
    (stale / "old.nbi").write_text("")
    (root / "not-ours").write_text("")
    assert clear_cache(str(root)) == len(written) + 1
    assert os.listdir(root) == ["not-ours"]
    assert clear_cache(str(tmp_path / "missing")) == 0


def test_clear_cache_clears_the_parent_of_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(cache_dir, "CACHE_DIR", str(tmp_path / "kernels-fedcba9876543210"))
    for name in ("kernels-fedcba9876543210", "kernels-0123456789abcdef"):
        (tmp_path / name / "sub").mkdir(parents=True)
        (tmp_path / name / "sub" / "f.nbi").write_text("")
    assert clear_cache() == 2 and os.listdir(tmp_path) == []


@pytest.mark.slow
def test_info_shows_the_cache_directory_and_clears_it(tmp_path):
    import subprocess
    import sys
    env = {**os.environ, "FASTGRAD_CACHE_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", "import numpy as np, fastgrad as fg; "
                    "fg.analytic_gradient(fg.MLP([1, 2, 1]), np.ones((3, 1)), np.ones((3, 1)))"],
                   env=env, check=True, timeout=600)
    assert list(tmp_path.rglob("*.nbi"))
    done = subprocess.run([sys.executable, "-m", "fastgrad", "info", "--clear-cache"], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"cache directory: {tmp_path}{os.sep}kernels-" in done.stdout
    removed = int(done.stdout.split("removed ")[1].split()[0])
    assert removed > 0 and not list(tmp_path.rglob("*.nbi"))


def test_hash_changes_with_the_registry(monkeypatch, tmp_path):
    """The registry installs mixed's codes into the kernels: an edit to it names a new cache."""
    copy = tmp_path / "registry.py"
    shutil.copy(cache_dir.REGISTRY, copy)
    monkeypatch.setattr(cache_dir, "REGISTRY", str(copy))
    before = content_hash()
    copy.write_text(copy.read_text() + "\n# a new code\n")
    assert content_hash() != before
