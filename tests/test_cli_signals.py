"""SIGINT, SIGTERM and SIGHUP share one handler: `train --save` keeps its last good weights."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from fastgrad.io import load_weights
from fastgrad.train import held_signals


def _default_stop_signals():
    """The child handles every stop signal as a plain process does: a test runner may ignore
    SIGINT (a background job) or SIGHUP (nohup), and the command line leaves ignored ones alone."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def _fastgrad_command():
    exe = os.path.join(os.path.dirname(sys.executable), "fastgrad")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "fastgrad"]


@pytest.mark.parametrize("signum,code,words", [(signal.SIGTERM, 143, "Stopped by SIGTERM"),
                                               (signal.SIGHUP, 129, "Stopped by SIGHUP")])
def test_a_stop_signal_during_train_saves_the_last_weights(tmp_path, signum, code, words):
    w = tmp_path / "w.npz"
    warm = subprocess.run(_fastgrad_command() + ["train", "--steps", "1", "--quiet"], capture_output=True,
                          timeout=600)
    assert warm.returncode == 0  # the kernels are compiled: the signal below lands in training
    proc = subprocess.Popen(_fastgrad_command() + ["train", "--steps", "100000000", "--save", str(w)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_stop_signals, cwd=tmp_path)
    deadline = time.time() + 120
    out = ""
    while "gradient numerical" not in out and time.time() < deadline:  # started training
        out += proc.stdout.readline()
    time.sleep(1.5)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code, stderr
    stops = [l for l in stderr.replace("\r", "\n").splitlines() if words in l]
    assert len(stops) == 1 and stops[0].startswith(f"{words} after ") and "Traceback" not in stderr
    assert f"weights saved to {w}" in stdout
    net, meta = load_weights(w)
    assert meta["status"] == "interrupted" and 0 < meta["steps_done"] < 100000000
    assert net.sizes == [1, 10, 1] and np.all(np.isfinite(net.theta))
    assert os.listdir(tmp_path) == ["w.npz"]  # no temporary file left


def test_a_stop_before_training_writes_nothing_and_says_so(tmp_path):
    """SIGTERM while the data and net are being set up: exit 143, one line, no file."""
    script = ("import os, signal, sys\n"
              "from fastgrad import runs\n"
              "from fastgrad.cli import main\n"
              "real = runs.setup\n"
              "def slow_setup(*args, **kwargs):\n"
              "    os.kill(os.getpid(), signal.SIGTERM)\n"
              "    return real(*args, **kwargs)\n"
              "runs.setup = slow_setup\n"
              "sys.argv = ['fastgrad', 'train', '--save', 'w.npz']\n"
              "main()\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          preexec_fn=_default_stop_signals, cwd=tmp_path)
    assert proc.returncode == 143, proc.stderr
    assert proc.stderr.strip().splitlines() == ["Stopped by SIGTERM."]
    assert os.listdir(tmp_path) == []


def test_held_signals_are_delivered_between_chunks_not_during_one():
    """A stop signal during the block is held; deliver() hands it to the handler, whose
    KeyboardInterrupt then lands where the caller chose; the handlers are restored after."""
    seen = []

    def stop(signum, frame):
        seen.append(signum)
        raise KeyboardInterrupt
    before = signal.signal(signal.SIGTERM, stop)
    try:
        with pytest.raises(KeyboardInterrupt):
            with held_signals() as deliver:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)  # the signal has arrived; held, it raised nothing
                assert seen == []
                deliver()
        assert seen == [signal.SIGTERM] and signal.getsignal(signal.SIGTERM) is stop
        with pytest.raises(KeyboardInterrupt):  # one arriving after the last deliver(): at the block's end
            with held_signals():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
        assert seen == [signal.SIGTERM] * 2
    finally:
        signal.signal(signal.SIGTERM, before)


def test_a_hang_up_saves_the_weights_though_the_terminal_is_gone(tmp_path):
    """SIGHUP as a closed terminal sends it: output to the terminal now fails (EIO); the stop
    still saves the weights."""
    import pty
    w = tmp_path / "w.npz"
    master, terminal = pty.openpty()
    proc = subprocess.Popen(_fastgrad_command() + ["train", "--steps", "100000000", "--save", str(w)],
                            stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal,
                            preexec_fn=_default_stop_signals, cwd=tmp_path)
    os.close(terminal)
    seen, deadline = b"", time.time() + 300
    while b"training" not in seen and time.time() < deadline:  # the bar: steps are being taken
        seen += os.read(master, 4096)
    time.sleep(1.0)
    os.close(master)  # the terminal hangs up
    proc.send_signal(signal.SIGHUP)
    assert proc.wait(timeout=120) == 129
    net, meta = load_weights(w)
    assert meta["status"] == "interrupted" and meta["steps_done"] > 0
    assert os.listdir(tmp_path) == ["w.npz"]
