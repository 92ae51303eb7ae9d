"""Warm-up of every job, the disk cache, runtime facts."""
import os

import numba
import pytest

import fastgrad as fg
from fastgrad import diagnostics, runtime
from fastgrad.kernels.specialise import ENTRIES


def test_runtime_info_names_threads_and_layer():
    info = fg.runtime_info()
    assert info["num_threads"] == fg.get_num_threads()
    assert info["threading_layer"] in ("omp", "tbb", "workqueue")
    assert info["numba"] == numba.__version__
    assert "jobs of the default configuration cached in" in info["kernel_cache"]


@pytest.mark.slow
def test_warm_up_covers_every_entry_kernel():
    """The registry of entry templates, not a hand-kept list, decides what a warm-up covers, in this
    process or shared out among fresh ones (the same rows)."""
    rows = diagnostics.warm_up()
    labels = [label for label, _, _, _ in rows]
    assert len(labels) == len(set(labels)) == 21 + 3  # the jobs, then the kernels around them
    assert {how for _, _, _, how in rows} <= {"compiled", "loaded"}
    assert all(seconds > 0 for _, _, seconds, _ in rows)
    assert all(".tanh.identity.mse" in name or name.endswith(".tanh.identity") for _, name, _, _ in rows[:21]
               if not name.startswith(("loss_at", "complex_step", "coordinate")))
    assert [name for _, name, _, _ in rows[21:]] == ["all_finite", "cache_size", "workspace_size"]
    built = diagnostics.entries_built()
    assert set(built) == set(ENTRIES) and all(count >= 1 for count in built.values()), built
    assert any(name.startswith("complex_step") and name.endswith(".parallel") for _, name, _, _ in rows)
    assert any(name.startswith("backprop") and name.endswith(".parallel") for _, name, _, _ in rows)
    shared = diagnostics.warm_up(processes=2)  # fresh processes, which load what this one compiled
    assert [row[:2] for row in shared] == [row[:2] for row in rows]
    assert {how for _, _, _, how in shared} <= {"compiled", "loaded"} and all(row[2] > 0 for row in shared)
    ex = fg.datasets.seed_numerical_example()
    with runtime.CompileWatch() as watch:  # after a warm-up, the default configuration compiles nothing
        fg.train(ex.net.copy(), ex.data.X, ex.data.Y, loss="mse", eta=0.01, steps=5)
        fg.numerical_gradient(ex.net, ex.data.X, ex.data.Y, loss="mse")
        fg.analytic_gradient(ex.net, ex.data.X, ex.data.Y, loss="mse")
        fg.loss(ex.net, ex.data.X, ex.data.Y, "mse")
    assert watch.compiled == []


def test_a_warm_up_process_that_dies_ends_the_warm_up_with_an_error():
    with pytest.raises(runtime.KernelError, match="a compiling process died"):
        diagnostics._share_out(os._exit, [3, 3, 3], 2)  # each process exits at its first task
    assert diagnostics._share_out(abs, [-1, 2, -3], 2) == [1, 2, 3]


def test_a_shared_out_task_starts_once_the_tasks_it_waits_for_are_done():
    """Task 1 waits for task 0; task 2 waits for nothing and so runs beside task 0 (2 processes)."""
    import subprocess
    clock = "python3 -c 'import time; print(time.time())'"
    task = f"{clock}; sleep 2; {clock}"
    times = [[float(t) for t in out.split()] for out in
             diagnostics._share_out(subprocess.getoutput, [task, task, task], 2, [(), (0,), ()])]
    (start0, end0), (start1, _), (start2, _) = times
    assert start1 >= end0
    assert start2 < end0


def test_a_shared_out_warm_up_job_waits_for_the_jobs_whose_callees_it_compiles_too():
    calls = diagnostics._calls(diagnostics.DEFAULT_CONFIGURATION)
    labels = [label for label, _, _ in calls]
    waits = {label: {labels[j] for j in numbers}
             for label, numbers in zip(labels, diagnostics.waits_for([kernel for _, kernel, _ in calls]))}
    assert waits["loss"] == waits["loss blocked"] == waits["complex step"] == set()
    assert "incremental differences" in waits["incremental differences parallel"]
    assert "complex step" in waits["complex step parallel"]
    assert {"loss", "backprop"} <= waits["train analytic"] and "loss blocked" not in waits["train analytic"]
    assert "incremental differences parallel" in waits["central gradient parallel"]
    assert "loss" not in waits["complex step parallel"]


@pytest.mark.slow
def test_cache_status_counts_the_warmed_jobs():
    diagnostics.warm_up()
    cached, total, directory = diagnostics.cache_status()
    assert total == 21 and cached == total and directory != "(none)"


COUNT_CACHED = """
import json, numpy as np
import fastgrad as fg
from fastgrad import diagnostics
from fastgrad.kernels import jobs
from fastgrad.kernels.layers import cache_size
before = diagnostics.cache_status()
net = fg.MLP([1, 2, 1], seed=0)
jobs.loss_kernel(jobs.formulas(["tanh"], "identity", "mse"))(net.theta, net.layout, np.zeros((1, 6)), np.ones((1, 6)),
                                                             np.empty(cache_size(net.layout, 6)))
print(json.dumps([before, diagnostics.cache_status()]))
"""


def test_cache_status_counts_the_jobs_with_an_index_in_a_fresh_cache(tmp_path):
    """In a fresh cache no job is cached; after the loss job's first call, that one is."""
    import json
    import subprocess
    import sys
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), FASTGRAD_CACHE_DIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", COUNT_CACHED], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (cached, total, directory), after = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (cached, total) == (0, 21) and directory.startswith(str(tmp_path))
    assert after == [1, 21, directory]


def test_a_warm_up_asking_for_more_processes_than_jobs_is_capped(monkeypatch):
    asked = []
    monkeypatch.setattr(diagnostics, "_share_out", lambda function, tasks, processes, waits: asked.append(
        (len(tasks), processes)) or [])
    monkeypatch.setattr(diagnostics, "_warm", lambda configuration, which=None: [])
    with pytest.warns(UserWarning, match=r"^warm-up: 1000 processes capped at \d+ \(one per job at most"):
        diagnostics.warm_up(processes=1000)
    (jobs, processes), = asked
    assert processes <= jobs < 1000
