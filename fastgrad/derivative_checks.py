"""Checks that find the wrong entry: a gradient or Jacobian function against finite differences,
entry by entry, as a report (``derivatives.Comparison``) that names the worst entries with
their given and numerical values and absolute and relative errors. ``check_grad`` keeps
scipy's one number."""
from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from . import calls
from .derivatives import Comparison, approx_derivative, compare, numbers
from .validation import positive_int, positive_number


def check_gradient(fun: Callable, grad: Callable, x0: ArrayLike, args: tuple = (), rtol: float = 1e-5,
                   atol: float = 1e-8, top: int = 5, method: str = "3-point", kwargs: dict | None = None,
                   backend: str | None = None) -> Comparison:
    """``grad(x0, *args, **kwargs)`` against ``approx_derivative(fun, x0, method)``, entry by
    entry: the gradient (n,) of a scalar ``fun``, or the Jacobian (m, n) of a vector one (a
    scipy sparse Jacobian is compared as an array).

    An entry passes when |a - g| <= atol + rtol |g| (a given, g numerical); the report lists
    the ``top`` worst, by |a - g| / (atol + rtol |g|), with index, a, g, |a - g| and the
    relative error |a - g| / max(|a|, |g|); ``passed`` when every entry passes. ``str()``
    prints it as a table, ``.to_json()`` as JSON-ready values.

    Examples
    --------
    >>> import numpy as np, fastgrad as fg
    >>> report = fg.check_gradient(lambda x: np.sum(x ** 2), lambda x: 2 * x, np.arange(3.0))
    >>> report.passed
    True
    """
    rtol = positive_number("rtol", rtol)
    atol = positive_number("atol", atol)
    top = positive_int("top", top)
    x0 = calls.point(x0)
    numerical = approx_derivative(fun, x0, method=method, args=args, kwargs=kwargs, backend=backend)
    given = calls.Call(grad, args, kwargs)(x0.copy())
    given = given.toarray() if hasattr(given, "toarray") else numbers("grad", given)
    if given.shape != numerical.shape and np.squeeze(given).shape == np.squeeze(numerical).shape:
        given = given.reshape(numerical.shape)  # one row or column either way, as scipy's check_derivative takes it
    return compare(given, numerical, rtol, atol, top, method)


check_jacobian = check_gradient  # one check for gradients and Jacobians
