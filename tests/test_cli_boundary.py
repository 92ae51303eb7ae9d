"""The command line's one boundary: every exception is one line and exit 2, FASTGRAD_DEBUG
shows a bug's traceback, and no output replaces an input or another output."""
import errno
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from fastgrad import diagnostics
from fastgrad.cli import cli


def _dask_error():
    from distributed.client import FutureCancelledError
    return FutureCancelledError("gradient-block-3", "scheduler-connection-lost")


def _unprintable_error():
    """Dask's KilledWorker with a worker's address where its state belongs: its str() fails."""
    from distributed import KilledWorker
    return KilledWorker("gradient-block-3", "tcp://127.0.0.1:40000", 3)


def _numba_error():
    from numba.core.errors import TypingError
    return TypingError("Failed in nopython mode pipeline (step: nopython frontend)\nUnknown attribute 'foo'\n"
                       "During: typing of get attribute at <string> (3)")


FAMILIES = [  # (exception, what its one line must say)
    (lambda: ValueError("top: expected an integer >= 1"), "Error: --top: expected an integer >= 1"),
    (lambda: TypeError("unsupported operand type(s) for +: 'int' and 'str'"),
     "Error: TypeError: unsupported operand type(s) for +: 'int' and 'str' (an unexpected error: "
     "FASTGRAD_DEBUG=1 shows its traceback)"),
    (lambda: OSError(errno.EACCES, "Permission denied", "/root/cache"), "Error: /root/cache: Permission denied"),
    (lambda: MemoryError(), "Error: out of memory"),
    (lambda: OverflowError("int too large to convert to float"), "Error: OverflowError: int too large to convert"),
    (lambda: KeyError(float("nan")), "Error: KeyError: nan (an unexpected error"),
    (lambda: SystemError("CPUDispatcher(<function f>) returned a result with an exception set"),
     "Error: SystemError: CPUDispatcher(<function f>) returned a result with an exception set"),
    (_numba_error, "Error: TypingError: Failed in nopython mode pipeline (step: nopython frontend) …"),
    (_dask_error, "Error: FutureCancelledError: gradient-block-3 cancelled for reason: scheduler-connection-lost."),
    (_unprintable_error, "Error: KilledWorker (an unexpected error: FASTGRAD_DEBUG=1 shows its traceback)"),
    (lambda: EOFError("No data left in file"), "Error: EOFError: No data left in file (an unexpected error"),
]


def _failing_info(monkeypatch, make):
    def fail():
        raise make()
    monkeypatch.setattr(diagnostics, "cache_status", fail)
    return CliRunner().invoke(cli, ["info"])


@pytest.mark.parametrize("make,line", FAMILIES, ids=[line.split(":")[1].strip() for _, line in FAMILIES])
def test_every_exception_is_one_line_and_exit_2(monkeypatch, make, line):
    monkeypatch.delenv("FASTGRAD_DEBUG", raising=False)
    result = _failing_info(monkeypatch, make)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # no exception escaped the boundary
    lines = [l for l in result.output.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith(line), result.output
    assert "Traceback" not in result.output and "Interrupted" not in result.output


def test_fastgrad_debug_shows_a_bugs_traceback_but_not_a_bad_inputs(monkeypatch):
    monkeypatch.setenv("FASTGRAD_DEBUG", "1")
    bug = _failing_info(monkeypatch, lambda: TypeError("'NoneType' object is not subscriptable"))
    assert bug.exit_code == 2
    assert "Traceback (most recent call last)" in bug.output and "in fail" in bug.output
    assert bug.output.strip().splitlines()[-1].startswith("Error: TypeError: 'NoneType' object is not subscriptable")
    bad_input = _failing_info(monkeypatch, lambda: ValueError("top: expected an integer >= 1"))
    assert bad_input.exit_code == 2 and bad_input.output.strip() == "Error: --top: expected an integer >= 1"


def test_an_empty_file_is_an_error_not_an_interrupt(tmp_path):
    """An EOFError (numpy reading an empty .npy) once printed "Interrupted." and exit 130."""
    module = tmp_path / "m.py"
    module.write_text("def f(x):\n    return x[0] ** 2\n")
    (tmp_path / "x0.npy").write_bytes(b"")
    result = CliRunner().invoke(cli, ["derivative", f"{module}:f", "--x0", str(tmp_path / "x0.npy")])
    assert result.exit_code == 2 and "Interrupted" not in result.output
    assert result.output.strip() == (f"Error: --x0: cannot read {tmp_path / 'x0.npy'} as a .npy array "
                                     "(EOF: reading magic string, expected 8 bytes got 0)")


def test_derivative_json_never_replaces_its_own_module(tmp_path, monkeypatch):
    """`fastgrad derivative m.py:f --x0 1 --json m.py` replaced the user's source file."""
    module = tmp_path / "user_fn.py"
    source = "def f(x):\n    return x[0] ** 2\n\n\ndef g(x):\n    return 2 * x\n"
    module.write_text(source)
    np_file = tmp_path / "x0.npy"
    np_file.write_bytes(b"kept")
    monkeypatch.chdir(tmp_path)
    for args, message in [
        ([f"{module}:f", "--x0", "1", "--json", str(module)],
         f"Error: --json {module}: the same file as the input FUNCTION {module}; choose another name"),
        (["user_fn:f", "--x0", "1", "--json", "user_fn.py"],
         f"Error: --json user_fn.py: the same file as the input FUNCTION {module}; choose another name"),
        ([f"{module}:f", "--x0", "1", "--check", "user_fn:g", "--json", str(module)], "the same file as the input"),
        ([f"{module}:f", "--x0", str(np_file), "--json", str(np_file)],
         f"Error: --json {np_file}: the same file as the input --x0 {np_file}; choose another name"),
    ]:
        result = CliRunner().invoke(cli, ["derivative", *args])
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines() == [message] or message in result.output, result.output
    assert module.read_text() == source and np_file.read_bytes() == b"kept"
    assert sorted(os.listdir(tmp_path)) == ["user_fn.py", "x0.npy"]


def test_save_to_dash_is_refused_not_a_file_named_dash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["train", "--steps", "1", "--save", "-"])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: --save: '-' would be a file named -; write ./- for that"
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("into", ["pipe", "file"])
def test_json_to_dev_stdout_goes_after_the_report_lines(tmp_path, into):
    """--json /dev/stdout is --json -: into a pipe it was refused; into a file it replaced the
    file, losing the lines printed before."""
    module = tmp_path / "m.py"
    module.write_text("def f(x):\n    return x[0] ** 2 + x[1]\n")
    command = [sys.executable, "-m", "fastgrad", "derivative", f"{module}:f", "--x0", "1,2", "--json", "/dev/stdout"]
    if into == "pipe":
        proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
        stdout = proc.stdout
    else:
        with open(tmp_path / "out.txt", "w") as out:
            proc = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, text=True, timeout=300)
        stdout = (tmp_path / "out.txt").read_text()
    assert proc.returncode == 0, proc.stderr
    record = json.loads(stdout)
    assert record["derivative"] == pytest.approx([2.0, 1.0], rel=1e-6)
    assert "gradient by 3-point" in proc.stderr  # the report, on stderr as with --json -


@pytest.mark.parametrize("args,message", [
    (["gradcheck", "--data", "{tmp}/d.csv", "--json", "{tmp}/d.csv"],
     "--json {tmp}/d.csv: the same file as the input --data"),
    (["hsweep", "--plot", "{tmp}/h.png", "--json", "{tmp}/h.png"],
     "--json {tmp}/h.png: the same file as the output --plot"),
    (["train", "--resume", "{tmp}/w.npz", "--loss-plot", "{tmp}/w.npz"], "--loss-plot {tmp}/w.npz: expected a figure"),
    (["train", "--resume", "{tmp}/w.npz", "--json", "{tmp}/w.npz"], "--json {tmp}/w.npz: the same file as the input"),
    (["bench", "--compare", "{tmp}/b.json", "--out", "{tmp}/b"], "--out (.json) {tmp}/b.json: the same file as the "
                                                                  "input --compare"),
])
def test_every_command_checks_its_outputs_before_any_work(tmp_path, monkeypatch, args, message):
    from fastgrad import benchmark, runs
    monkeypatch.setattr(runs, "setup", lambda *a, **k: pytest.fail("the command ran"))
    monkeypatch.setattr(benchmark, "read_comparison", lambda *a, **k: pytest.fail("the command ran"))
    for name in ("d.csv", "w.npz", "b.json"):
        (tmp_path / name).write_text("kept")
    result = CliRunner().invoke(cli, [a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2 and result.output.startswith("Error: " + message.format(tmp=tmp_path)), result.output
    assert sorted(os.listdir(tmp_path)) == ["b.json", "d.csv", "w.npz"]
    assert all((tmp_path / name).read_text() == "kept" for name in os.listdir(tmp_path))


def test_train_saves_the_weights_before_anything_that_could_fail_after(monkeypatch, tmp_path):
    from click.testing import CliRunner
    from fastgrad.cli import cli
    from fastgrad.cli import train as train_command
    from fastgrad.io import load_weights

    def out_of_memory(*args, **kwargs):
        raise MemoryError("the metrics' forward pass")
    monkeypatch.setattr(train_command, "_metrics", out_of_memory)
    saved = tmp_path / "w.npz"
    result = CliRunner().invoke(cli, ["train", "--data", "sine", "--steps", "5", "--quiet", "--save", str(saved)])
    assert result.exit_code == 2 and "Error:" in result.output
    assert load_weights(str(saved))[1]["steps_done"] == 5
