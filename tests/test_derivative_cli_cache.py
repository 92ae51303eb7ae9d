"""``fastgrad derivative`` caches the compiled loop around a function from a file, keyed by the
function's source and the globals it reads: the next process loads the loop and the function
from fastgrad's cache directory (nothing beside the user's file), a changed file compiles
afresh, and a function that cannot be keyed compiles in memory as before."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from numba import njit

import fastgrad as fg
from fastgrad import source_keys
from fastgrad.kernels import specialise

MODEL = """\
import numpy as np
from numba import njit



@njit
def loss(x):
    return {scale} * np.sum(x ** 2) + np.sin(x[0])


@njit
def grad(x):
    g = 2.0 * {scale} * x
    g[0] += np.cos(x[0])
    return g
"""

# The CLI's code path in one process on a compiled backend (threads even on busy cores), with
# numba's counts [hits, misses] of its cache for the loops bound to a keyed function and for
# the keyed functions themselves.
PROBE = """
import json, sys
from click.testing import CliRunner
from fastgrad import policy
from fastgrad.cli import cli
from fastgrad.kernels import specialise
policy.contended = lambda: False
model, backend = sys.argv[1:]
done = CliRunner().invoke(cli, ["derivative", model + ":loss", "--x0", "1,2,3", "--backend", backend,
                                "--check", model + ":grad", "--json", "-"])
assert done.exit_code == 0, done.output
sys.stderr.write(done.stderr)  # the report, and any warning


def counts(dispatcher):
    return [sum(dispatcher.stats.cache_hits.values()), sum(dispatcher.stats.cache_misses.values())]


loops = {k.py_func.__qualname__: counts(k) for (_, bindings, *_), k in specialise._BUILT.items()
         if any(value in specialise.KEYS for _, value in bindings)}
functions = {f.py_func.__qualname__: counts(f) for f in specialise.KEYS}
print(json.dumps({"derivative": json.loads(done.stdout)["derivative"], "loops": loops, "functions": functions}))
"""


def _write(path, scale):
    path.write_text(MODEL.format(scale=scale))


# Two calls in one process, the file edited between them.
EDITS = """
import json, pathlib, sys
from click.testing import CliRunner
from fastgrad.cli import cli
model, found = pathlib.Path(sys.argv[1]), []
for scale in sys.argv[3:]:
    model.write_text(sys.argv[2].format(scale=scale))
    done = CliRunner().invoke(cli, ["derivative", f"{model}:loss", "--x0", "1,2,3", "--json", "-"])
    assert done.exit_code == 0, done.output
    found.append(json.loads(done.stdout)["derivative"])
print(json.dumps(found))
"""


def _run(cache, script, *args):
    """The last line of ``script``'s output as JSON, and its stderr; the cache in ``cache``."""
    env = {**os.environ, "FASTGRAD_CACHE_DIR": str(cache), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", script, *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def _probe(cache, model, backend="numba"):
    found, stderr = _run(cache, PROBE, model, backend)
    return {**found, "stderr": stderr}


def _expected(scale):
    x = np.array([1.0, 2.0, 3.0])
    g = 2.0 * scale * x
    g[0] += np.cos(1.0)
    return g


def _numba_files(root):
    return sorted(p for p in Path(root).rglob("*") if p.suffix in (".nbi", ".nbc"))


def _entry(probe):
    """The counts of the one job loop (``shared_evaluations``) that ``probe`` ran."""
    (counts,) = [c for q, c in probe["loops"].items() if q.startswith("shared_evaluations.loss_")]
    return counts


def test_the_next_process_loads_the_loops_and_the_functions(tmp_path):
    user, cache = tmp_path / "user", tmp_path / "cache"
    user.mkdir()
    _write(user / "model.py", "2.0")
    serial = _probe(cache, user / "model.py", "numba")
    assert _entry(serial) == [0, 1] and serial["functions"] == {"loss": [0, 1], "grad": [0, 1]}
    parallel = _probe(cache, user / "model.py", "numba-parallel")
    assert _entry(parallel) == [0, 1] and parallel["functions"] == {"loss": [1, 0], "grad": [1, 0]}
    assert _numba_files(user) == []  # nothing beside the user's file
    names = [p.name for p in _numba_files(cache)]
    for start in ("any_function.shared_evaluations.loss_", "model.loss-", "model.grad-"):
        assert any(n.startswith(start) and n.endswith(".nbi") for n in names), (start, names)
    assert any(".parallel-" in n for n in names)
    for backend, before in (("numba", serial), ("numba-parallel", parallel)):
        again = _probe(cache, user / "model.py", backend)
        assert _entry(again) == [1, 0], again  # loaded, not compiled
        assert all(misses == 0 for _, misses in again["loops"].values()), again  # nor any loop it links
        assert again["functions"] == {"loss": [1, 0], "grad": [1, 0]}
        assert again["derivative"] == before["derivative"] == serial["derivative"]  # bit for bit
    np.testing.assert_allclose(serial["derivative"], _expected(2.0), rtol=1e-8)
    assert _numba_files(user) == []


def test_an_edited_file_gives_the_new_functions_derivative(tmp_path):
    model = tmp_path / "model.py"
    _write(model, "2.0")
    before = _probe(tmp_path / "cache", model)
    stamp = model.stat()
    _write(model, "3.0")
    os.utime(model, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # numba's stamp (size, mtime) and bytecode unchanged
    after = _probe(tmp_path / "cache", model)
    np.testing.assert_allclose(before["derivative"], _expected(2.0), rtol=1e-8)
    np.testing.assert_allclose(after["derivative"], _expected(3.0), rtol=1e-8)
    assert _entry(after) == [0, 1] and after["functions"]["loss"] == [0, 1]  # compiled afresh


def test_one_process_sees_an_edit_between_two_calls(tmp_path):
    found, _ = _run(tmp_path / "cache", EDITS, tmp_path / "model.py", MODEL, "2.0", "3.0")
    np.testing.assert_allclose(found, [_expected(2.0), _expected(3.0)], rtol=1e-8)


def test_a_broken_loop_file_is_recompiled_and_an_unwritable_cache_compiles_in_memory(tmp_path):
    model, cache = tmp_path / "model.py", tmp_path / "cache"
    _write(model, "2.0")
    first = _probe(cache, model)
    loops = [p for p in _numba_files(cache) if p.name.startswith("any_function.shared_evaluations.loss_")]
    assert loops
    for path in loops:
        path.write_bytes(path.read_bytes()[:100])
    again = _probe(cache, model)
    assert again["derivative"] == first["derivative"] and "broken kernel cache entry" in again["stderr"]
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory would be")
    unwritable = _probe(blocked / "cache", model)
    assert unwritable["derivative"] == first["derivative"] and unwritable["functions"] == {}  # nothing keyed
    assert "Traceback" not in unwritable["stderr"] and not _numba_files(tmp_path / "blocked")


def _factory(c):
    @njit
    def f(x):
        return c * x[0] ** 2
    return f


def test_functions_that_cannot_be_keyed_compile_in_memory(tmp_path, monkeypatch):
    namespace = {}
    exec("from numba import njit\n@njit\ndef g(x):\n    return 3.0 * x[0] ** 2\n", namespace)
    (tmp_path / "unkeyable_globals.py").write_text(
        "import numpy as np\nfrom numba import njit\nPAIR = (np.ones(2), 5.0)\n\n\n"
        "@njit\ndef h(x):\n    return PAIR[1] * x[0] ** 2 + PAIR[0][0]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "unkeyable_globals", raising=False)
    import unkeyable_globals
    # a closure, a function without a file, one reading a tuple that holds an array
    for fun, c in ((_factory(2.0), 2.0), (namespace["g"], 3.0), (unkeyable_globals.h, 5.0)):
        assert source_keys.key(fun) is None
        assert source_keys.cache(fun) is fun and fun not in specialise.KEYS
        J = fg.approx_derivative(fun, np.array([1.5]), backend="numba")
        np.testing.assert_allclose(J, [2 * c * 1.5], rtol=1e-7)
    assert source_keys.cache(len) is len  # not a numba function: returned as it is


def test_the_key_follows_the_file_and_the_globals_it_reads(tmp_path, monkeypatch):
    source = ("import numpy as np\nfrom numba import njit\nfrom keyed_helper import twice\n"
              "W = np.load({path!r})\n\n\n@njit\ndef f(x):\n    return twice(np.sum(W * x))\n")
    (tmp_path / "keyed.py").write_text(source.format(path=str(tmp_path / "weights.npy")))
    (tmp_path / "keyed_helper.py").write_text("from numba import njit\n\n\n@njit\ndef twice(v):\n    return 2.0 * v\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # each import reads the files as they are now

    def key():
        for name in ("keyed", "keyed_helper"):
            monkeypatch.delitem(sys.modules, name, raising=False)
        import keyed
        return source_keys.key(keyed.f)

    np.save(tmp_path / "weights.npy", np.arange(3.0))
    first = key()
    assert first is not None and key() == first  # the same sources and values: the same key
    np.save(tmp_path / "weights.npy", np.arange(3.0) + 1)
    changed_array = key()
    (tmp_path / "keyed_helper.py").write_text("from numba import njit\n\n\n@njit\ndef twice(v):\n    return 3.0 * v\n")
    changed_helper = key()
    assert len({first, changed_array, changed_helper}) == 3
