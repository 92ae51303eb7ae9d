"""End-to-end command-line tests: each command, its files and every error path."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

from fastgrad.cli import cli
from fastgrad.io import load_weights, save_weights
from fastgrad.model import MLP


def run(*args):
    """The command's result; an exception other than click's own exit fails the test (the
    runner catches it, so it never reaches the output as a traceback)."""
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def test_train_default_is_the_seed_example_with_all_outputs(tmp_path):
    out = {k: str(tmp_path / f"{k}") for k in ("fit.png", "loss.png", "w.npz", "m.json")}
    result = run("train", "--steps", "300", "--quiet", "--plot", out["fit.png"], "--loss-plot",
                 out["loss.png"], "--save", out["w.npz"], "--json", out["m.json"])
    assert result.exit_code == 0, result.output
    assert "data seed: 25 training samples; net [1, 10, 1] (tanh-identity), 31 parameters; loss mse" in result.output
    assert "training loss = " in result.output and "testing loss = " in result.output
    for name in ("fit.png", "loss.png"):
        assert open(out[name], "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    metrics = json.load(open(out["m.json"]))
    assert metrics["steps_done"] == 300 and metrics["status"] == "completed" and metrics["loss"] == "mse"
    net, meta = load_weights(out["w.npz"])
    assert net.sizes == [1, 10, 1] and meta["steps_done"] == 300
    assert sorted(os.listdir(tmp_path)) == sorted(out)  # no temporary files left


def test_resume_continues_from_save(tmp_path):
    w1, w2, m = str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), str(tmp_path / "m.json")
    assert run("train", "--steps", "100", "--quiet", "--save", w1).exit_code == 0
    assert run("train", "--steps", "100", "--quiet", "--resume", w1, "--save", w2).exit_code == 0
    assert run("train", "--steps", "200", "--quiet", "--json", m).exit_code == 0
    # 100 + 100 steps equal 200 steps in one run (full-batch gradient descent has no other state)
    np.testing.assert_allclose(load_weights(w2)[0].theta, _theta_after(200, tmp_path), rtol=1e-12)
    assert json.load(open(m))["steps_done"] == 200


def test_resume_continues_the_step_count_and_may_replace_its_file(tmp_path):
    w, m = str(tmp_path / "w.npz"), str(tmp_path / "m.json")
    assert run("train", "--steps", "100", "--quiet", "--save", w).exit_code == 0
    result = run("train", "--steps", "50", "--quiet", "--resume", w, "--save", w, "--json", m)
    assert result.exit_code == 0 and "resuming " + w + " after 100 steps" in result.output
    metrics = json.load(open(m))
    assert metrics["steps_before"] == 100 and metrics["steps_done"] == 50
    assert metrics["history"]["step"][0] == 100 and metrics["settings"]["resume"] == w
    assert load_weights(w)[1]["steps_done"] == 150


def test_an_output_never_replaces_an_input_or_another_output(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n1,2\n2,3\n3,4\n")
    w = tmp_path / "w.npz"
    assert run("train", "--steps", "5", "--quiet", "--save", str(w)).exit_code == 0
    before = {p: p.read_bytes() for p in (data, w)}
    for args, message in [
        (["--data", str(data), "--json", str(data)], f"--json {data}: the same file as the input --data {data}"),
        (["--resume", str(w), "--loss-plot", str(tmp_path / "w.png"), "--json", str(w)],
         f"--json {w}: the same file as the input --resume {w}"),
        (["--save", str(tmp_path / "x"), "--json", str(tmp_path / "x")], "the same file as the output --save"),
        (["--resume", str(w), "--plot", str(w)], f"--plot {w}: expected a figure file ending in"),
        (["--save", str(tmp_path / "no" / "w.npz")], "cannot write there (No such file or directory)"),
    ]:
        result = run("train", "--steps", "5", "--quiet", *args)
        assert result.exit_code == 2 and message in result.output, result.output
        assert "training loss" not in result.output  # refused before any work
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(os.listdir(tmp_path)) == ["d.csv", "w.npz"]


def test_json_to_stdout_records_the_settings(tmp_path):
    result = CliRunner().invoke(cli, ["train", "--steps", "5", "--quiet", "--json", "-"])
    assert result.exit_code == 0
    metrics = json.loads(result.stdout)
    assert metrics["settings"]["seed"] == 0 and metrics["settings"]["h"] is None
    assert metrics["settings"]["runtime"]["numba"] and metrics["steps_done"] == 5
    assert "training loss" in result.stderr and "seed 0" in result.stderr


def test_gradcheck_json_and_a_pdf_figure(tmp_path):
    m, pdf = str(tmp_path / "g.json"), str(tmp_path / "heat.pdf")
    result = run("gradcheck", "--json", m, "--plot", pdf)
    assert result.exit_code == 0, result.output
    report = json.load(open(m))
    assert report["passed"] is True and report["settings"]["method"] == "central"
    assert [layer["shape"] for layer in report["layers"]] == [[2, 10], [11, 1]]
    assert len(report["relative_errors"]) == 31 and len(report["worst"]) == 5
    assert open(pdf, "rb").read(5) == b"%PDF-"


def test_a_full_disk_is_one_line_and_keeps_nothing_half_written(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    result = run("train", "--steps", "5", "--quiet", "--json", "/dev/full")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["Error: /dev/full: cannot write (No space left on device)"]


def _theta_after(steps, tmp_path):
    path = str(tmp_path / f"ref{steps}.npz")
    assert run("train", "--steps", str(steps), "--quiet", "--save", path).exit_code == 0
    return load_weights(path)[0].theta


@pytest.mark.slow
@pytest.mark.parametrize("args", [
    ["--data", "spirals", "--gradient", "analytic", "--steps", "200", "--sizes", "2,8,3"],
    ["--data", "sine", "--activation", "sigmoid", "--batch-size", "5", "--steps", "50", "--seed", "1"],
    ["--update", "coordinate", "--steps", "20"],
    ["--data", "seed-analytic", "--gradient", "analytic", "--steps", "100", "--backend", "numba"],
])
def test_train_variants(tmp_path, args):
    plot = str(tmp_path / "fit.png")
    result = run("train", "--quiet", "--plot", plot, *args)
    assert result.exit_code == 0, result.output
    assert os.path.getsize(plot) > 1000


def test_train_on_a_csv_file(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    rows = "\n".join(",".join(f"{v:.6f}" for v in x) + f",{x.sum():.6f}" for x in X)
    path = tmp_path / "d.csv"
    path.write_text("a,b,c,total\n" + rows + "\n")
    result = run("train", "--data", str(path), "--target", "total", "--test-fraction", "0.25",
                 "--gradient", "analytic", "--steps", "100", "--quiet", "--plot", str(tmp_path / "p.png"))
    assert result.exit_code == 0, result.output
    assert "30 training samples; net [3, 10, 1]" in result.output and "testing loss" in result.output


@pytest.mark.slow
def test_inputs_in_the_millions_train_and_check_finite(tmp_path):
    """A CSV column in [1e6, 1e7]: the loss is finite, so is every gradient (the incremental
    differences returned NaN there, and train reported a divergence at step 0)."""
    x = np.random.default_rng(0).uniform(1e6, 1e7, 40)
    path = tmp_path / "big.csv"
    path.write_text("x,y\n" + "\n".join(f"{v:.1f},{np.sin(v / 1e6):.6f}" for v in x) + "\n")
    trained = run("train", "--data", str(path), "--steps", "50", "--quiet")
    assert trained.exit_code == 0 and "training loss = " in trained.output, trained.output
    checked = run("gradcheck", "--data", str(path))
    assert checked.exit_code == 0 and "gradcheck PASSED" in checked.output and "nan" not in checked.output


def test_gradcheck_passes_and_plots(tmp_path):
    result = run("gradcheck", "--plot", str(tmp_path / "heat.png"))
    assert result.exit_code == 0, result.output
    assert "gradcheck PASSED" in result.output and "worst entries" in result.output
    assert os.path.getsize(tmp_path / "heat.png") > 1000


def test_gradcheck_fails_with_exit_1_when_the_step_is_too_coarse():
    result = run("gradcheck", "--h", "0.5")
    assert result.exit_code == 1 and "gradcheck FAILED" in result.output


def test_info():
    result = run("info")
    assert result.exit_code == 0
    assert "threading_layer" in result.output and "num_threads" in result.output


def test_info_warm_up_prints_a_row_per_job(monkeypatch):
    from fastgrad import diagnostics
    rows = [("loss", "loss_at.tanh.identity.mse", 1.5, "compiled"),
            ("complex step parallel", "complex_step.tanh.identity.mse.parallel", 0.25, "loaded")]
    asked = []
    monkeypatch.setattr(diagnostics, "warm_up", lambda processes: asked.append(processes) or rows)
    result = run("info", "--warm-up", "--processes", "3")
    assert result.exit_code == 0 and asked == [3]
    lines = result.output.splitlines()
    assert any(l.split() == ["loss", "1.50", "compiled", "loss_at.tanh.identity.mse"] for l in lines)
    assert any(l.split() == ["complex", "step", "parallel", "0.25", "loaded",
                             "complex_step.tanh.identity.mse.parallel"] for l in lines)
    assert lines[-2].split() == ["total", "1.75"]
    assert lines[-1].split()[0] == "wall" and lines[-1].endswith("(3 processes)")
    for cached, expected in ((0, diagnostics.default_processes()), (21, 1)):  # all cached: loaded here
        monkeypatch.setattr(diagnostics, "cache_status", lambda cached=cached: (cached, 21, "/tmp"))
        assert run("info", "--warm-up").exit_code == 0 and asked[-1] == expected


def test_info_processes_needs_warm_up():
    result = run("info", "--processes", "2")
    assert result.exit_code == 2 and result.output.strip() == "Error: --processes: only with --warm-up"


@pytest.mark.parametrize("args,message", [
    (["train", "--data", "mnist"], "mnist: cannot read the file"),
    (["train", "--steps", "0"], "Invalid value for '--steps'"),
    (["train", "--eta", "-1"], "Invalid value for '--eta'"),
    (["train", "--h", "0"], "Invalid value for '--h'"),
    (["train", "--activation", "gelu"], "Invalid value for '--activation'"),
    (["train", "--loss", "hinge"], "Invalid value for '--loss'"),
    (["train", "--backend", "cuda"], "Invalid value for '--backend'"),
    (["train", "--sizes", "2,10,1"], "--sizes: the net [2, 10, 1] does not fit the data, which has 1 input(s)"),
    (["train", "--sizes", "1,x,1"], "Invalid value for '--sizes'"),
    (["train", "--loss", "cross-entropy"], "--loss: 'cross-entropy' cannot be used with a 'identity' output"),
    (["train", "--batch-size", "99"], "--batch-size: expected at most 25"),
    (["train", "--threads", "999"], "--threads: expected an integer from 1 to"),
    (["train", "--seed", "-1"], "Invalid value for '--seed'"),
    (["train", "--seed", "1.5"], "Invalid value for '--seed'"),
    (["train", "--h", "1e-400"], "Invalid value for '--h': 1e-400 underflows to 0"),
    (["train", "--eta", "inf"], "Invalid value for '--eta': expected a finite number > 0"),
    (["train", "--sizes", "1,99999999999999999999999,1"], "--sizes: [1, 99999999999999999999999, 1] (3e+23 "
                                                           "parameters) would need 2.4e+24 bytes of memory"),
    (["train", "--data", "sine", "--samples", "10000000000000"], "--samples: 10000000000000 samples would need 1"),
    (["train", "--data", "sine", "--output", "softmax"], "--output: softmax over one unit is always 1"),
    (["train", "--samples", "5"], "--samples: only sine and spirals take a sample count, not the seed data"),
    (["train", "--test-fraction", "0.2"], "--test-fraction: only for CSV files"),
    (["train", "--save", ""], "--save: expected a file name, got an empty one"),
    (["train", "--plot", "fit.jpg"], "--plot fit.jpg: expected a figure file ending in .png, .pdf, .svg"),
    (["hsweep", "--h", "1e-3"], "--h: hsweep takes its steps from --h-min to --h-max"),
    (["hsweep", "--methods", ","], "--methods: expected one or more of"),
    (["gradcheck", "--fast", "--method", "complex-step"], "--fast: the fast check differences the loss"),
    (["train", "--resume", "missing.npz"], "missing.npz: cannot read the weights file"),
    (["train", "--nope"], "No such option"),
    (["gradcheck", "--data", "spirals", "--sizes", "2,4,2"], "does not fit the data, which has 2 input(s) and 3"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = run(*args)
    assert result.exit_code == 2, result.output
    lines = [l for l in result.output.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.output


def test_resume_file_that_does_not_fit(tmp_path):
    w = str(tmp_path / "w.npz")
    assert run("train", "--data", "spirals", "--steps", "5", "--quiet", "--save", w,
               "--gradient", "analytic").exit_code == 0
    result = run("train", "--resume", w, "--data", "seed")  # not the saved data: refused
    assert result.exit_code == 2
    assert f"data: {w} was trained with data 'spirals', not 'seed'" in result.output
    save_weights(w, MLP([2, 10, 3]))  # weights saved without their data: the default data
    result = run("train", "--resume", w)
    assert result.exit_code == 2
    assert f"--resume {w}: the net [2, 10, 3] does not fit the data" in result.output


@pytest.mark.slow
def test_diverging_run_saves_last_good_weights_and_exits_2(tmp_path):
    w = str(tmp_path / "w.npz")
    result = run("train", "--eta", "1e6", "--quiet", "--save", w)
    assert result.exit_code == 2
    assert "Error: training diverged" in result.output and "Traceback" not in result.output
    net, meta = load_weights(w)
    assert meta["status"] == "diverged" and np.all(np.isfinite(net.theta))


def test_unwritable_output_is_one_line(tmp_path):
    result = run("train", "--steps", "5", "--quiet", "--save", str(tmp_path / "no" / "w.npz"))
    assert result.exit_code == 2 and "cannot write there" in result.output


def _default_sigint():
    """Give the child Python's Ctrl-C handling: a test worker may run with SIGINT ignored, and a
    child that starts with SIGINT ignored never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _fastgrad_command():
    exe = os.path.join(os.path.dirname(sys.executable), "fastgrad")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "fastgrad"]


def test_installed_console_script_runs():
    proc = subprocess.run(_fastgrad_command() + ["train", "--steps", "50", "--quiet"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "training loss" in proc.stdout
    bad = subprocess.run(_fastgrad_command() + ["train", "--steps", "-3"], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().count("\n") == 0


def test_the_console_script_leaves_its_objects_out_of_the_shutdown_collection(monkeypatch, capsys):
    """main() freezes the collector's objects on the way out, errors and exit codes as before."""
    import gc

    from fastgrad.cli import main
    gc.unfreeze()
    try:
        for argv, code in ((["fastgrad", "--version"], 0), (["fastgrad", "train", "--steps", "-3"], 2)):
            monkeypatch.setattr(sys, "argv", argv)
            with pytest.raises(SystemExit) as stop:
                main()
            assert stop.value.code == code
            assert gc.get_freeze_count() > 0
            gc.unfreeze()
    finally:
        gc.unfreeze()
    assert "--steps" in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_saves_complete_weights_and_exits_130(tmp_path):
    w = tmp_path / "w.npz"
    warm = subprocess.run(_fastgrad_command() + ["train", "--steps", "1", "--quiet"], capture_output=True,
                          timeout=600)
    assert warm.returncode == 0  # the kernels are compiled: Ctrl-C below lands in training
    proc = subprocess.Popen(_fastgrad_command() + ["train", "--steps", "100000000", "--save", str(w)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
    deadline = time.time() + 120
    out = ""
    while "gradient numerical" not in out and time.time() < deadline:  # started training
        out += proc.stdout.readline()
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Interrupted after" in stderr and "Traceback" not in stderr
    net, meta = load_weights(w)
    assert meta["status"] == "interrupted" and 0 < meta["steps_done"] < 100000000
    assert net.sizes == [1, 10, 1] and np.all(np.isfinite(net.theta))
    # the weights saved are those after exactly steps_done steps (full-batch steps are deterministic)
    replay = subprocess.run(_fastgrad_command() + ["train", "--steps", str(meta["steps_done"]), "--quiet",
                                                   "--save", str(tmp_path / "replay.npz")],
                            capture_output=True, timeout=600)
    assert replay.returncode == 0
    assert load_weights(tmp_path / "replay.npz")[0].theta.tobytes() == net.theta.tobytes()


@pytest.mark.slow
def test_ctrl_c_while_compiling_exits_130_and_keeps_the_old_file(tmp_path):
    w = tmp_path / "w.npz"
    w.write_bytes(b"an earlier result")
    env = dict(os.environ, FASTGRAD_CACHE_DIR=str(tmp_path / "empty-cache"))
    proc = subprocess.Popen(_fastgrad_command() + ["train", "--save", str(w)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, preexec_fn=_default_sigint)
    header = proc.stdout.readline() + proc.stdout.readline()
    assert "gradient numerical" in header  # printed before anything compiles
    notice = proc.stderr.readline()  # wait for compiling to begin, however loaded the machine
    assert "compiling kernels for this configuration (first run only)" in notice
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Interrupted before the first step; no file written." in stderr
    assert "Traceback" not in stderr and "compiled in" not in stderr
    assert w.read_bytes() == b"an earlier result"


def test_warnings_are_one_line(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,y\n" + "".join(f"{i},{i * 0.37:.3f}\n" for i in range(12)))
    result = run("train", "--data", str(path), "--classify", "--gradient", "analytic", "--steps", "3", "--quiet")
    assert result.exit_code == 0, result.output
    warnings = [l for l in result.stderr.splitlines() if "continuous target" in l]
    assert len(warnings) == 1 and warnings[0].startswith("Warning: ") and "Traceback" not in result.stderr


def test_every_option_has_help_text():
    import click
    missing = [(name, p.opts[0]) for name, command in cli.commands.items() for p in command.params
               if isinstance(p, click.Option) and not p.help]
    assert missing == []


def test_failing_json_and_figure_writers_leave_the_previous_files(tmp_path, monkeypatch):
    """A writer that fails half-way (here: after writing part of its file) leaves the earlier
    complete outputs as they were, and no temporary file behind."""
    import matplotlib.figure
    from fastgrad import io
    m, fit = tmp_path / "m.json", tmp_path / "fit.png"
    assert run("train", "--steps", "5", "--quiet", "--json", str(m), "--plot", str(fit)).exit_code == 0
    before = {p: p.read_bytes() for p in (m, fit)}

    def half_then_full(self, fname, *args, **kwargs):
        with open(fname, "wb") as f:
            f.write(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", half_then_full)
    result = run("train", "--steps", "7", "--quiet", "--plot", str(fit))
    assert result.exit_code == 2 and f"{fit}: cannot write (No space left on device)" in result.output

    def failing_rename(source, target):
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(io.os, "replace", failing_rename)  # the JSON written in full, the rename fails
    result = run("train", "--steps", "7", "--quiet", "--json", str(m))
    assert result.exit_code == 2 and f"{m}: cannot write (Input/output error)" in result.output
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(os.listdir(tmp_path)) == ["fit.png", "m.json"]


def test_standardize_is_saved_reused_by_resume_and_warned_about(tmp_path):
    path = tmp_path / "price.csv"
    x = np.linspace(0.0, 10.0, 40)
    path.write_text("area,price\n" + "".join(f"{1000 * v:.3f},{2e5 + 5e4 * np.sin(v):.3f}\n" for v in x))
    plain = run("train", "--data", str(path), "--gradient", "analytic", "--steps", "3", "--quiet")
    assert plain.exit_code == 0
    warned = [l for l in plain.stderr.splitlines() if l.startswith("Warning: ")]
    assert len(warned) == 1 and "--standardize" in warned[0] and "'area'" in warned[0]
    w, m = tmp_path / "w.npz", tmp_path / "m.json"
    first = run("train", "--data", str(path), "--gradient", "analytic", "--steps", "300", "--quiet", "--standardize",
                "--save", str(w))
    assert first.exit_code == 0 and "Warning" not in first.stderr and "(standardized targets)" in first.output
    scaling = load_weights(w)[1]["scaling"]
    assert scaling["y_mean"][0] == pytest.approx(np.mean(2e5 + 5e4 * np.sin(x)), rel=1e-9)
    resumed = run("train", "--data", str(path), "--gradient", "analytic", "--steps", "1", "--quiet", "--resume",
                  str(w), "--json", str(m))
    assert resumed.exit_code == 0 and "Warning" not in resumed.stderr
    # the resumed run sees the data scaled as before: its first loss is the first run's last
    assert json.load(open(m))["history"]["loss"][0] < 0.5


@pytest.mark.slow
@pytest.mark.parametrize("args,message", [
    (["train", "--sizes", "1,99999999999999999999999,1"], "would need 2.4e+24 bytes of memory"),
    (["train", "--data", "{tmp}/d.csv", "--json", "{tmp}/d.csv"], "the same file as the input --data"),
    (["train", "--resume", "{tmp}/trunc.npz"], "trunc.npz: not a fastgrad weights file"),
    (["train", "--h", "1e-400"], "underflows to 0"),
    (["gradcheck", "--plot", "{tmp}/heat.jpg"], "expected a figure file ending in"),
    (["bench", "--quick", "--compare", "{tmp}/d.csv"], "is not a fastgrad bench JSON file"),
])
def test_bad_input_through_the_installed_command(tmp_path, args, message):
    """The console script, as a user runs it: exit 2, one line on stderr, nothing on stdout
    after it, no traceback, the input files untouched."""
    (tmp_path / "d.csv").write_text("x,y\n1,2\n2,3\n")
    (tmp_path / "trunc.npz").write_bytes(b"PK\x03\x04 truncated")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    proc = subprocess.run(_fastgrad_command() + [a.format(tmp=tmp_path) for a in args], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 2, proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.strip() and not l.startswith("compiling")]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], proc.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.slow
def test_finalizers_failing_after_an_interrupted_compile_say_nothing_and_ctrl_c_is_not_lost(capsys):
    """Seen in CI: Ctrl-C inside LLVM left an llvmlite object whose __del__ failed, and Python
    printed its traceback; and once a Ctrl-C's KeyboardInterrupt landed inside a finalizer,
    where Python drops it, so the compile went on. The command line's unraisable hook drops
    the finalizers' failures and raises the interrupt again in the main thread."""
    from types import SimpleNamespace
    from fastgrad.cli.app import _quiet_compiler_finalizers
    seen, interrupts = [], []
    from llvmlite.binding import ffi
    for obj, exc in [(ffi.ObjectRef.__del__, RuntimeError("closed twice")), (print, KeyboardInterrupt()),
                     (ffi.ObjectRef.__del__, KeyboardInterrupt()), (len, ValueError("a real problem"))]:
        _quiet_compiler_finalizers(SimpleNamespace(object=obj, exc_value=exc), report=seen.append,
                                   interrupt=lambda: interrupts.append(1))
    assert [u.exc_value.args for u in seen] == [("a real problem",)]
    assert len(interrupts) == 2
    # the real thing, in a process of its own (pytest-xdist runs tests outside the main thread):
    # Ctrl-C arrives while a finalizer runs, so its KeyboardInterrupt is raised inside it
    script = ("import os, signal, sys, threading, time\n"
              "from fastgrad.cli.app import _quiet_compiler_finalizers\n"
              "sys.unraisablehook = _quiet_compiler_finalizers\n"
              "class Slow:\n"
              "    def __del__(self):\n"
              "        end = time.monotonic() + 0.5\n"
              "        while time.monotonic() < end:\n"
              "            pass\n"
              "threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()\n"
              "try:\n"
              "    Slow()\n"
              "    time.sleep(5)\n"
              "    print('not interrupted')\n"
              "except KeyboardInterrupt:\n"
              "    print('interrupted')\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          preexec_fn=_default_sigint)
    assert proc.stdout.strip() == "interrupted", proc.stderr
