"""fastgrad derivative: the gradient or Jacobian of any function f(x) at x0."""
import importlib
import importlib.util
import os
import sys

import click

from .. import derivatives, policy, source_keys
from ..io import load_vector, write_json
from .app import cli
from .common import cluster, cluster_option, say
from .options import FileArgument, cluster_options, input_option, json_option, module_files, \
    positive_number_option, working_directory_on_path


def load_function(option, spec, modules=None):
    """The function named MODULE:FUNCTION (a module on the path or in the working directory,
    or a .py file), or a ValueError about ``option``. ``modules``: a dict (path -> module)
    that the loads of one command share: each .py file is executed once, and its module is
    kept in ``sys.modules`` under its name where that is free or held by the same file
    (Python's recipe for importing a file; numba imports a cached function's module by name)."""
    where, colon, name = spec.rpartition(":")
    if not (colon and where and name):
        raise ValueError(f"{option}: expected MODULE:FUNCTION (a module or a .py file, then a function's name), "
                         f"got {spec!r}")
    try:
        if where.endswith(".py"):
            module = _load_file(os.path.abspath(where), modules)
        else:
            working_directory_on_path()
            module = importlib.import_module(where)
    except (ImportError, OSError) as exc:
        raise ValueError(f"{option}: cannot import {where} ({exc})") from None
    except Exception as exc:  # the module itself failed
        raise ValueError(f"{option}: importing {where} raised {type(exc).__name__}: {exc}") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise ValueError(f"{option}: {where} has no function {name!r}")
    return function


def _load_file(path, modules):
    """The module of the .py file at absolute ``path``, executed; ``modules``: see ``load_function``."""
    if modules is not None and path in modules:
        return modules[path]
    name = os.path.splitext(os.path.basename(path))[0]
    found = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(found)
    held = sys.modules.get(name)
    keep = modules is not None and (held is None or getattr(held, "__file__", None) == path)
    if keep:
        sys.modules[name] = module
    try:
        found.loader.exec_module(module)
    except BaseException:
        if keep and held is None:
            del sys.modules[name]
        elif keep:
            sys.modules[name] = held
        raise
    if modules is not None:
        modules[path] = module
    return module


def _point(text):
    """--x0: comma-separated numbers, or a .npy file of a 1-D array."""
    import numpy as np
    if text.endswith(".npy"):
        x0 = load_vector(text, "--x0")
    else:
        try:
            x0 = np.array([float(v) for v in text.replace(" ", "").split(",")])
        except ValueError:
            raise ValueError(f"--x0: expected comma-separated numbers such as 1,2,3 or a .npy file, "
                             f"got {text!r}") from None
    if x0.ndim != 1 or x0.dtype.kind not in "iuf" or not np.isfinite(x0).all():
        raise ValueError(f"--x0: expected a 1-D array of finite numbers, got {x0.dtype} shape {x0.shape}")
    return x0.astype(float)


def _point_files(label, text):
    return [(label, text)] if text.endswith(".npy") else []


@cli.command("derivative")
@click.argument("function", metavar="MODULE:FUNCTION", cls=FileArgument, role="input", label="FUNCTION",
                files=module_files)
@input_option("--x0", "x0_text", required=True, metavar="X", type=str, files=_point_files,
              help="The point: comma-separated numbers (1,2,3) or a .npy file of a 1-D array.")
@click.option("--method", type=click.Choice(list(derivatives.METHODS)), default="3-point", show_default=True,
              help="Difference rule: scipy's names (or fastgrad's forward, central, complex-step for them), "
                   "or fastgrad's backward, central4, richardson.")
@click.option("--backend", type=click.Choice(policy.MACHINE_DERIVATIVE_BACKENDS), default=None,
              help=f"Loop: python, or compiled for an @njit function [{policy.NUMBA_PARALLEL} for those, else python].")
@input_option("--check", "gradient_spec", metavar="MODULE:GRADIENT", type=str, files=module_files,
              help="Compare this gradient (or Jacobian) function at x0 with the differences; exit 1 if they disagree.")
@positive_number_option("--rtol", default="1e-5", show_default=True,
                        help="--check: an entry passes when |a - g| <= atol + rtol |g|.")
@positive_number_option("--atol", default="1e-8", show_default=True, help="--check: absolute tolerance.")
@json_option("results")
@cluster_options
def derivative_command(function, x0_text, method, backend, gradient_spec, rtol, atol, json_path, scheduler,
                       dask_workers):
    """The gradient or Jacobian of any function f(x) at x0 (scipy's approx_derivative)."""
    import numpy as np
    option = cluster_option(scheduler, dask_workers)
    modules = {} if option is None else None  # a cluster's workers unpickle a file's function by value, not by name
    fun = load_function("FUNCTION", function, modules)
    gradient = load_function("--check", gradient_spec, modules) if gradient_spec else None
    if modules is not None:  # compiled loops and functions load from disk on the next call
        fun, gradient = source_keys.cache(fun), source_keys.cache(gradient)
    x0 = _point(x0_text)
    tell = say(json_path)
    with cluster(option, scheduler, dask_workers) as client:
        on_cluster = dict(backend="dask", client=client) if client is not None else dict(backend=backend)
        J, info = derivatives.approx_derivative(fun, x0, method=method, full_output=True, **on_cluster)
    tell(f"{function} at x0 of {x0.size} coordinate(s): {'gradient' if J.ndim == 1 else 'Jacobian'} by "
         f"{method}, {info['nfev']} evaluations, backend {info['backend']}")
    with np.printoptions(precision=17, threshold=np.inf, linewidth=100):
        tell(str(J))
    result = {"settings": {"function": function, "x0": x0.tolist(), "method": method, "backend": info["backend"]},
              "derivative": J.tolist(), "nfev": info["nfev"]}
    code = 0
    if gradient is not None:
        report = derivatives.compare(gradient(x0), J, rtol, atol, method=method)
        tell(report.text(gradient_spec))
        result["check"] = report.to_json()
        code = 0 if report.passed else 1
    if json_path:
        write_json(json_path, result)
    return code
