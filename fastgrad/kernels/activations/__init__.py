"""The activations as kernel formulas: one module each, with the same functions.

Every function takes the layer's activation ``code`` first; only ``mixed`` (nets whose
hidden layers differ) reads it. A module provides

    activate(code, Z, A, scratch)   A = f(Z) for a (units, n) block (scratch: floats, at least Z's size)
    times_slope(code, d, z, a)   d f'(z), a = f(z) (the built-in ones write f' through a)
    u_scale(code)                s in u = tanh(s d), the helper of ``tilt``; 0 for none
    change(code, z, a, d)        f(z + d) - f(z) from the cached a, without cancellation
    complex_value(code, z)       f(z) for complex z (the complex step)

and tanh and sigmoid also ``tilt(code, a, u)`` = (t, s) with f(z + d) - f(z) = s / (1 + t u),
u = tanh(s d) (the u-table of the incremental differences).
The built-in modules are named, coded and described by ``fastgrad.registry``, which hands
them to ``install``; its numpy references are what the tests compare the formulas with. A
user's activation (``fastgrad.Activation``) brings a module of its own, built by ``custom.py``.
"""
from . import mixed

BY_NAME = {}  # name -> formulas module of each built-in activation (install)


def install(built_ins):
    """Take the built-in activations from the registry: (name, module, code, hidden,
    exact_change) each. Fills BY_NAME, marks each module's EXACT_CHANGES and builds mixed's
    dispatch over the hidden ones' codes."""
    BY_NAME.clear()
    cases = []
    for name, module, code, hidden, exact_change in built_ins:
        BY_NAME[name] = module
        module.EXACT_CHANGES = exact_change
        if hidden:
            cases.append((code, module))
    mixed.install(cases)


def formulas_of(activation):
    """The module of a built-in activation's name, or a custom Activation's own."""
    return BY_NAME[activation] if isinstance(activation, str) else activation.formulas


def hidden_formulas(names):
    """The module for a net's hidden layers: the activation they share, or ``mixed`` (built-in
    activations only)."""
    names = set(names)
    return formulas_of(names.pop()) if len(names) == 1 else mixed
