"""The one boundary every command runs through.

- Errors: every exception ends the program with one ``Error: <message>`` line on stderr and
  exit code 2, no traceback; with FASTGRAD_DEBUG=1 in the environment, an exception other
  than a ValueError shows its traceback too. An API message "batch_size: ..." is said in the
  command line's words: "--batch-size: ...".
- Signals: SIGINT, SIGTERM and SIGHUP (those not ignored) share one handler, which notes the
  first and raises KeyboardInterrupt as Ctrl-C does: a command stops where it would on Ctrl-C
  (``train`` between chunks, keeping its last good weights) and exits 128 + the signal's
  number (130, 143, 129).
- Files: before a command runs, every file its parameters name as an output
  (``options.FileParameter``) is checked: writable, a figure's format known, and the same
  file as no input and no other output (``io.check_outputs``).
"""
import _thread
import gc
import os
import signal
import stat
import sys
import threading
import traceback
import warnings

import click

from .. import dask_backend, runtime
from ..io import check_outputs, figure_format
from ..train import STOP_SIGNALS
from .options import FileParameter

EXPECTED = (ValueError, runtime.KernelError, dask_backend.ClusterError, OSError, MemoryError)
API_NAMES = {"n": "samples", "hidden": "activation"}  # API argument -> the option that sets it
DEBUG_HINT = "an unexpected error: FASTGRAD_DEBUG=1 shows its traceback"


class _Stops:
    """The handler of SIGINT, SIGTERM and SIGHUP: notes the first signal, then raises
    KeyboardInterrupt."""

    def __init__(self):
        self.first = None
        self._previous = {}

    def __call__(self, signum, frame):
        self.first = self.first or signum
        if signum == getattr(signal, "SIGHUP", None):
            _leave_the_terminal()
        raise KeyboardInterrupt

    def install(self):
        """Handle the stop signals not ignored (nohup, a background job keep theirs), in the
        main thread only (elsewhere Python cannot)."""
        self.first = None
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in STOP_SIGNALS:
            if signal.getsignal(signum) is not signal.SIG_IGN:
                self._previous[signum] = signal.signal(signum, self)

    def restore(self):
        while self._previous:
            signum, handler = self._previous.popitem()
            signal.signal(signum, handler)

    @property
    def code(self):
        """The exit code of a stop: 128 + the signal's number (130 for Ctrl-C)."""
        return 128 + (self.first or signal.SIGINT)

    @property
    def words(self):
        """How the stop is told: "Interrupted" (Ctrl-C) or "Stopped by SIGTERM"."""
        return "Interrupted" if self.first in (None, signal.SIGINT) else f"Stopped by {signal.Signals(self.first).name}"


STOPS = _Stops()


def _leave_the_terminal():
    """After a hang-up, writing to the terminal fails: standard output and error, where they
    are a terminal (a character device), are pointed at os.devnull, under every stream object
    that writes to them, so that the stop still gets to save its files."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (1, 2):
            try:
                if stat.S_ISCHR(os.fstat(fd).st_mode):
                    os.dup2(devnull, fd)
            except OSError:  # closed
                pass
    finally:
        os.close(devnull)


class _EOF(Exception):
    """An EOFError on its way out through click, which would take it for an interrupt."""


class Command(click.Command):
    """A command whose files are checked (``check_files``) before it runs."""

    def invoke(self, ctx):
        check_files(self, ctx.params)
        try:
            return super().invoke(ctx)
        except EOFError as exc:  # an empty file, not Ctrl-D at a prompt
            raise _EOF() from exc


def check_files(command, params):
    """Check the files ``command``'s parameters name (their values in ``params``) before any
    work: outputs writable, figures in a format we write, no output the same file as an input
    or another output (except as declared: --save may replace --resume), standard output
    only where allowed. An output that names this process's standard output (/dev/stdout)
    where that is a file or a pipe is taken as "-": written after the lines already printed,
    never over them."""
    inputs, outputs, replaces = [], [], set()
    for param in command.params:
        value = params.get(param.name)
        if not isinstance(param, FileParameter) or value is None:
            continue
        if param.role == "input":
            inputs += param.files(value)
            continue
        if param.stdout and _is_standard_output(value):
            params[param.name] = value = "-"
        for label, path in param.files(value):
            if path == "-" and not param.stdout:
                raise ValueError(f"{label}: '-' would be a file named -; write ./- for that")
            if param.figure:
                figure_format(label, path)
            outputs.append((label, path))
        replaces.update((param.label, other) for other in param.replaces)
    check_outputs(outputs, inputs, replaces)


def _is_standard_output(path):
    """Whether ``path`` names this process's standard output, a regular file or a pipe."""
    try:
        out = os.fstat(sys.stdout.fileno())
        same = os.path.samestat(os.stat(path), out)
    except (OSError, ValueError, AttributeError):  # no such path; stdout with no descriptor (a test's)
        return False
    return same and (stat.S_ISREG(out.st_mode) or stat.S_ISFIFO(out.st_mode) or stat.S_ISSOCK(out.st_mode))


class Group(click.Group):
    """The command group: every command runs through ``main``, the boundary."""
    command_class = Command

    def main(self, args=None, prog_name=None, **extra):
        extra.pop("standalone_mode", None)
        warnings.showwarning = _one_line_warning
        sys.unraisablehook = _quiet_compiler_finalizers
        STOPS.install()
        try:
            code = super().main(args=args, prog_name=prog_name, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except (KeyboardInterrupt, click.Abort):
            click.echo(f"{STOPS.words}.", err=True)
            code = STOPS.code
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            code = 2
        except Exception as exc:
            code = self.report(exc.__cause__ if isinstance(exc, _EOF) else exc)
        finally:
            STOPS.restore()
        sys.exit(code if isinstance(code, int) else 0)

    def report(self, exc):
        """Say ``exc`` in one line (with its traceback first under FASTGRAD_DEBUG=1, unless a
        ValueError); the exit code, 2."""
        if os.environ.get("FASTGRAD_DEBUG") == "1" and not isinstance(exc, ValueError):
            traceback.print_exception(exc)
        click.echo(f"Error: {error_line(exc, self.option_words())}", err=True)
        return 2

    def option_words(self):
        """API argument name -> the option that sets it ("batch_size" -> "--batch-size"), from
        every command's options."""
        words = {}
        for command in self.commands.values():
            for param in command.params:
                if isinstance(param, click.Option):
                    words[param.name] = param.opts[0]
                    words.update((opt.lstrip("-").replace("-", "_"), opt) for opt in param.opts)
        words.update((api, words[option]) for api, option in API_NAMES.items())
        return words


def error_line(exc, option_words):
    """``exc`` in one line: an expected error's message, with the option in the command
    line's words; an unexpected one's type and first line, and the hint of FASTGRAD_DEBUG."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    text = _first_line(exc)
    if isinstance(exc, MemoryError):
        return "out of memory" + (f" ({text})" if text else "")
    if isinstance(exc, EXPECTED):
        return _in_option_words(text, option_words)
    return f"{type(exc).__name__}{': ' + text if text else ''} ({DEBUG_HINT})"


def _first_line(exc):
    """The first line of ``exc``'s message, "…" marking any more; "" for none, or for a message
    that cannot be made (a __str__ that fails)."""
    try:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    except Exception:
        return ""
    return (lines[0] + (" …" if len(lines) > 1 else "")) if lines else ""


def _in_option_words(message, option_words):
    """An API message "batch_size: ..." (or "resume PATH: ...") as the command line says it:
    "--batch-size: ..."."""
    name, colon, after = message.partition(":")
    if colon and name in option_words:
        return option_words[name] + colon + after
    head, space, rest = message.partition(" ")
    value, colon, _ = rest.partition(":")
    if colon and value and " " not in value and head in option_words:  # a file's option: "resume w.npz: ..."
        return option_words[head] + space + rest
    return message


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    click.echo(f"Warning: {message}", err=True)


def _interrupt_main_soon():
    """Ctrl-C again in the main thread, 10 ms from now, from another thread: raised at once it
    would land in the hook or finalizer running now and be dropped again."""
    timer = threading.Timer(0.01, _thread.interrupt_main)
    timer.daemon = True
    timer.start()


def _quiet_compiler_finalizers(unraisable, report=sys.__unraisablehook__, interrupt=_interrupt_main_soon):
    """sys.unraisablehook: Ctrl-C while numba compiles can leave llvmlite objects whose
    finalizers then fail ("Exception ignored in ... __del__", with a traceback); the interrupt
    itself is reported in one line, so say nothing of those. A Ctrl-C whose KeyboardInterrupt
    landed inside a finalizer, where Python can only drop it, is raised again in the main
    thread once the finalizer is done (else the compile would go on as if Ctrl-C had not been
    pressed; should it land in a finalizer again, this hook sends it again). Anything else is
    reported."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        interrupt()
        return
    where = getattr(unraisable.object, "__module__", None) or ""
    if where.startswith("llvmlite"):
        return
    report(unraisable)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fastgrad")
def cli():
    """Gradients of multilayer perceptrons: backprop and fast finite differences."""


def main():
    """The console script. Its objects are frozen out of the garbage collector on the way out:
    Python's shutdown would otherwise run full collections over the registries' objects that
    numba holds once a kernel has loaded."""
    try:
        cli()
    finally:
        gc.freeze()
