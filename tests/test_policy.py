"""The policy: backend names defined once, thread decisions, and the engine line the CLI prints."""
import ast
from pathlib import Path

import numpy as np
import pytest

import fastgrad as fg
from fastgrad import policy


def _code_strings(path):
    """String constants of a module's code, docstrings left out."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_the_parallel_backend_is_named_in_the_policy_only():
    root = Path(fg.__file__).parent
    naming = sorted(str(path.relative_to(root)) for path in root.rglob("*.py")
                    if path.name != "policy.py" and policy.NUMBA_PARALLEL in _code_strings(path))
    assert naming == []


@pytest.mark.parametrize("n,entries,P,strategy,expected", [
    (25, 31, 31, "incremental", "numba"),           # the textbook net: 775 evaluations
    (25, 31, 31, "full", "numba-parallel"),         # ... each a whole forward pass: 24,025
    (1000, 836, 836, "incremental", "numba-parallel"),
    (20, 1000, 1000, "incremental", "numba-parallel"),  # exactly NUMERICAL_MIN_WORK
    (19, 1000, 1000, "incremental", "numba"),
])
def test_numerical_threads_need_enough_work(n, entries, P, strategy, expected):
    assert policy.numerical_backend("numba-parallel", n, entries, P, strategy) == expected
    assert policy.numerical_backend("numba", n, entries, P, strategy) == "numba"


def test_backprop_threads_need_enough_work():
    assert not policy.backprop_parallel(25, 31)
    assert policy.backprop_parallel(1000, policy.BACKPROP_MIN_WORK // 1000)


def test_training_engine_says_why_it_runs_serially():
    assert policy.training_engine(31, 25, "numerical", "numba-parallel", "gradient").describe() == \
        "numba, serial: too little work for threads"
    assert policy.training_engine(31, 25, "numerical", "numba-parallel", "coordinate").describe() == \
        "numba, serial: the sweep moves one entry at a time"
    assert policy.training_engine(10_000, 5000, "analytic", "numba-parallel", "gradient").describe() == "numba"
    assert policy.training_engine(10_000, 5000, "numerical", "numba", "gradient").describe() == "numba"


def test_a_parallel_engine_names_its_threads_and_layer(restore_threads):
    fg.set_num_threads(1)
    engine = policy.training_engine(836, 1000, "numerical", "numba-parallel", "gradient")
    assert engine.parallel and engine.threads == 1
    text = engine.describe()
    assert text.startswith("numba-parallel, 1 threads, ") and text.endswith(" layer")
    assert fg.runtime_info()["threading_layer"] in text


def test_shares_follow_the_threads(restore_threads):
    fg.set_num_threads(1)
    assert policy.shares("numba-parallel") == 1 and policy.shares("numba") == 1
    if fg.runtime_info()["max_threads"] >= 2:
        fg.set_num_threads(2)
        assert policy.shares("numba-parallel") == 2 and policy.shares("numba") == 1


def test_the_gradients_follow_the_policy(monkeypatch, seed_net):
    """Lowering the threshold is all it takes for the default backend to run its parallel job
    (the same bits as serial)."""
    net, X, Y = seed_net
    from fastgrad import runtime
    used = []
    real_call = runtime.call
    monkeypatch.setattr(runtime, "call", lambda kernel, *args: used.append(runtime.kernel_name(kernel))
                        or real_call(kernel, *args))
    serial = fg.numerical_gradient(net, X, Y)
    assert not any("parallel" in name for name in used)
    monkeypatch.setattr(policy, "NUMERICAL_MIN_WORK", 0)
    monkeypatch.setattr(policy, "contended", lambda: False)  # whatever else runs on this machine
    used.clear()
    parallel = fg.numerical_gradient(net, X, Y, backend="numba-parallel", strategy="full")
    assert any("parallel" in name for name in used)
    assert np.array_equal(parallel, fg.numerical_gradient(net, X, Y, backend="numba", strategy="full"))
    assert serial.shape == parallel.shape


def _stat(path, ticks):
    """A /proc/stat with the given busy user ticks per CPU (and 1000 idle ticks each)."""
    lines = ["cpu  0 0 0 0 0 0 0 0 0 0"] + [f"cpu{k} {t} 0 0 1000 0 0 0 0 0 0" for k, t in enumerate(ticks)]
    path.write_text("\n".join(lines + ["intr 0"]) + "\n")


@pytest.mark.parametrize("others_ticks,own_seconds,threads,expected", [
    ((100, 0), 0.0, 2, True),     # another process kept one of two cores busy for the whole second
    ((100, 0), 1.0, 2, False),    # ... that was our own process
    ((100, 100), 1.0, 2, True),   # we used one core, another process the other
    ((30, 0), 0.0, 2, False),     # a light neighbour leaves both cores mostly free
    ((100, 0), 0.0, 1, False),    # one thread needs one core
])
def test_the_cpu_watch_counts_other_processes_only(monkeypatch, tmp_path, others_ticks, own_seconds, threads,
                                                   expected):
    stat = tmp_path / "stat"
    _stat(stat, (0, 0))
    watch = policy._CpuWatch(str(stat))
    watch.cpus, watch.tick = [0, 1], 0.01
    now = policy.time.monotonic()
    watch.last = (now - 1.0, 0.0, 0.0)
    _stat(stat, others_ticks)
    monkeypatch.setattr(policy.time, "process_time", lambda: own_seconds)
    assert watch.look(threads) is expected
    assert watch.busy is expected


def test_a_missing_proc_stat_is_never_busy(tmp_path):
    watch = policy._CpuWatch(str(tmp_path / "absent"))
    assert watch.busy_seconds() is None and watch.look(8) is False


def test_contended_cores_run_the_serial_kernels_with_the_same_bits(monkeypatch, restore_threads):
    """The default backend's parallel jobs (numerical, backprop, training) step aside while the
    cores are contended, and give the same bits."""
    from fastgrad import runtime
    if runtime.max_threads() < 2:
        pytest.skip("needs two threads")
    fg.set_num_threads(2)
    monkeypatch.setattr(policy, "NUMERICAL_MIN_WORK", 0)
    monkeypatch.setattr(policy, "BACKPROP_MIN_WORK", 0)
    rng = np.random.default_rng(3)
    net, X = fg.MLP([2, 5, 1], seed=3), rng.normal(size=(30, 2))
    Y = np.sin(X[:, :1])
    used = []
    real_call = runtime.call
    monkeypatch.setattr(runtime, "call", lambda kernel, *args: used.append(runtime.kernel_name(kernel))
                        or real_call(kernel, *args))
    results = {}
    for busy in (False, True):
        monkeypatch.setattr(policy, "contended", lambda busy=busy: busy)
        used.clear()
        prob = fg.Problem(net, X, Y)
        trained = net.copy()
        fg.train(trained, X, Y, steps=3, eta=0.05)
        results[busy] = (prob.numerical_gradient(), prob.analytic_gradient(),
                         fg.numerical_gradient(net, X, Y, strategy="full"), trained.theta.copy())
        assert any("parallel" in name for name in used) is not busy, used
    for quiet, busy in zip(results[False], results[True]):
        assert quiet.tobytes() == busy.tobytes()
