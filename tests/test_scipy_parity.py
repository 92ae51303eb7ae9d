"""scipy's own tests of ``approx_derivative`` (the installed scipy's
``scipy/optimize/tests/test__numdiff.py``), run with ``fastgrad.approx_derivative`` in scipy's
place: in the test module and in ``scipy.optimize._numdiff``, whose ``check_derivative`` the
tests also call. Skipped only where scipy (or its tests) is not installed."""
import inspect

import pytest

import fastgrad

numdiff_tests = pytest.importorskip("scipy.optimize.tests.test__numdiff")
numdiff = pytest.importorskip("scipy.optimize._numdiff")


@pytest.fixture(autouse=True)
def fastgrads_approx_derivative(monkeypatch):
    """fastgrad's function wherever scipy's tests reach scipy's."""
    monkeypatch.setattr(numdiff_tests, "approx_derivative", fastgrad.approx_derivative)
    monkeypatch.setattr(numdiff, "approx_derivative", fastgrad.approx_derivative)


def test_the_tests_call_fastgrad():
    """The tests' name resolves to fastgrad's function while they run (the fixture above)."""
    assert numdiff_tests.approx_derivative is fastgrad.approx_derivative
    assert numdiff.check_derivative.__globals__["approx_derivative"] is fastgrad.approx_derivative


# scipy's test classes and functions, collected here so that the fixture applies to them
for _name, _value in vars(numdiff_tests).items():
    if _name.startswith("Test") and inspect.isclass(_value):
        globals()[_name] = type(_name, (_value,), {"__module__": __name__})
    elif _name.startswith("test_") and inspect.isfunction(_value):
        globals()[_name] = _value
