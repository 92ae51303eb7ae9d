"""Kernels specialised per configuration: each compiles only what its configuration runs."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from fastgrad import analytic_gradient
from fastgrad.kernels import jobs, specialise
from fastgrad.runtime import kernel_name
from helpers import make_problem


def test_specialisations_are_memoised_and_named_by_their_bindings():
    f = jobs.formulas(["tanh"], "identity", "mse")
    assert jobs.backprop_kernel(f) is jobs.backprop_kernel(jobs.formulas(["tanh"], "identity", "mse"))
    assert kernel_name(jobs.backprop_kernel(f)) == "backprop.tanh.identity.mse"
    assert kernel_name(jobs.differences_kernel(f, "incremental", True)) == \
        "incremental_differences.tanh.identity.mse.tabled_first_change.no_layers_above.parallel"
    deep = jobs.formulas(["tanh", "tanh"], "identity", "mse")
    assert kernel_name(jobs.differences_kernel(deep, "incremental", False)) == \
        "incremental_differences.tanh.identity.mse.tabled_first_change.through_the_layers_above"
    other = jobs.formulas(["relu"], "identity", "mse")
    assert kernel_name(jobs.differences_kernel(other, "incremental", False)) == \
        "incremental_differences.relu.identity.mse.exact_first_change.no_layers_above"
    # a binding a job does not use does not split its kernels
    assert kernel_name(jobs.loss_kernel(f)) == "loss_at.tanh.identity.mse"
    assert jobs.loss_kernel(f) is specialise.specialise(
        jobs.forward.loss_at, f + (("differences", None),))


def test_borrowing_kernels_compile_without_reference_counting():
    """The kernels that allocate nothing and that other kernels call (the forward pass, the loss,
    the serial backprop, the incremental job's share and per-entry kernels) count no references;
    their parallel builds, and the jobs that allocate, do. The job gives the same gradient as
    backprop, deep nets included."""
    net, X, Y = make_problem([2, 4, 3, 1], n=7, seed=2)
    f = jobs.formulas(net.hidden, net.output, "squared")
    kernel = jobs.differences_kernel(f, "incremental", False)
    out = np.empty(net.n_params)
    kernel(net.theta, net.layout, X.T.copy(), Y.T.copy(), np.full(net.n_params, 1e-6), 1.0, 1e-6,
           np.arange(net.n_params), 1, np.empty(0), out)
    np.testing.assert_allclose(out / 2e-6, analytic_gradient(net, X, Y, "squared"), rtol=1e-6, atol=1e-9)
    parallel_backprop = jobs.backprop_kernel(f, parallel=True)
    jobs.backprop_kernel(f)
    built = [(template.__name__, parallel, k) for (template, _, parallel, inline, _), k in specialise._BUILT.items()
             if template in specialise.BORROWERS and not inline]
    assert {name for name, parallel, _ in built if not parallel} >= {
        "entry_differences", "_propagate", "_share", "forward", "loss_at", "backprop"}
    assert all(k.targetoptions.get("_nrt", True) is parallel for _, parallel, k in built)
    assert parallel_backprop.targetoptions.get("_nrt", True) is True
    assert jobs.incremental.add_products.targetoptions.get("_nrt") is False
    assert kernel.targetoptions.get("_nrt", True) is True  # the job allocates: counted


def test_mixed_hidden_layers_share_one_kernel():
    f = jobs.formulas(["tanh", "relu"], "identity", "squared")
    assert kernel_name(jobs.backprop_kernel(f)) == "backprop.mixed.identity.squared"


DEFAULT_TRAIN = """
import json, fastgrad as fg
from fastgrad import diagnostics
from fastgrad.runtime import CompileWatch
ex = fg.datasets.seed_numerical_example()
with CompileWatch() as watch:
    fg.train(ex.net, ex.data.X, ex.data.Y, loss="mse", eta=0.01, steps=20)
print(json.dumps({"built": diagnostics.entries_built(), "top": [n for n, _ in watch.compiled],
                  "every": watch.every}))
"""


@pytest.mark.slow
def test_default_train_compiles_one_serial_incremental_training_kernel(tmp_path):
    """`fastgrad train` with no options: the serial incremental tanh/identity/mse training
    kernel and what it calls, nothing else (no parallel, backprop, full or complex kernel)."""
    env = dict(os.environ, FASTGRAD_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", DEFAULT_TRAIN], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {k: v for k, v in report["built"].items() if v} == {"gradient_steps": 1}
    assert report["top"] == ["all_finite",  # the Problem's check of X, Y and theta
                             "gradient_steps.tanh.identity.mse.tabled_first_change.no_layers_above"
                             ".ANALYTIC_False.incremental_differences"]
    for name in report["every"]:  # nor the propagation through further hidden layers
        assert not any(word in name for word in ("parallel", "backprop", "full_differences", "complex", "sigmoid",
                                                  "relu", "softmax", "squared", "cross_entropy", "_propagate")), name


@pytest.mark.slow
def test_parallel_equals_serial_bit_for_bit_in_every_configuration_kind(force_threads, restore_threads):
    import fastgrad as fg
    for hidden, output in [("tanh", "identity"), (["relu", "sigmoid"], "softmax")]:
        net, X, Y = make_problem([3, 5, 4, 3] if isinstance(hidden, list) else [3, 5, 3], hidden, output, n=9)
        serial = fg.numerical_gradient(net, X, Y, backend="numba")
        fg.set_num_threads(min(2, fg.runtime_info()["max_threads"]))
        parallel = fg.numerical_gradient(net, X, Y, backend="numba-parallel")
        assert parallel.tobytes() == serial.tobytes()
        assert np.all(np.isfinite(serial))


def test_every_job_declares_its_templates_parameters_once():
    """``jobs.JOBS`` names each job's arguments as its templates' parameters, covers every entry
    template once, and its builders' docstrings state that signature."""
    import inspect
    covered = [template for job in jobs.JOBS.values() for template in job.templates]
    assert sorted(t.__name__ for t in covered) == sorted(specialise.ENTRIES)
    for name, job in jobs.JOBS.items():
        for template in job.templates:
            assert tuple(inspect.signature(template).parameters) == job.arguments, (name, template.__name__)
        assert job.build.__doc__.startswith(jobs.signature(name) + ";")
        assert job.build is getattr(jobs, name + "_kernel")  # Problem.kernel(job) builds by this name
    assert jobs.signature("differences").startswith(
        "(theta, layout, XT, YT, steps, m, h_table, entries, n_shares, work, out) -> E")


def test_specialise_records_the_kernels_each_specialisation_links():
    """The callees recorded as a kernel is built: those compiled on their own, at any depth, not
    those pasted into it."""
    f = jobs.formulas(["tanh"], "identity", "mse")
    loss = jobs.loss_kernel(f)
    linked = specialise.callees(loss)
    assert kernel_name(specialise.specialise(jobs.forward.forward, f)) in {kernel_name(k) for k in linked}
    assert all(k.targetoptions.get("inline") != "always" for k in linked)
    assert specialise.callees(jobs.training_kernel(f, "analytic", None, False)) >= linked
    assert loss not in specialise.callees(jobs.complex_step_kernel(f, False))
    parallel, serial = (jobs.central_kernel(f, "incremental", threads) for threads in (True, False))
    assert jobs.differences_kernel(f, "incremental", True) in specialise.callees(parallel)  # linked
    assert jobs.differences_kernel(f, "incremental", False) not in specialise.callees(serial)  # pasted
