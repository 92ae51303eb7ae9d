"""The ``fastgrad`` command line: one thin command per job, calling the public API.

Every command runs through one boundary (``app``): an error ends the program with one line on
stderr and exit code 2 (FASTGRAD_DEBUG=1 adds a bug's traceback); Ctrl-C, SIGTERM and SIGHUP
stop it as Ctrl-C does (during training after saving the last weights when --save was given),
with exit code 130, 143 or 129; no output may replace an input or another output. A job whose
kernels are not yet compiled says so on stderr while numba compiles them.
"""
from . import bench, derivative, gradcheck, hsweep, info, predict, train  # noqa: F401 (each adds its command to cli)
from .app import cli, main

__all__ = ["cli", "main"]
