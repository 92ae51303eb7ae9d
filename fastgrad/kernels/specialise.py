"""Kernels specialised to one configuration, so that numba compiles only what runs.

A *template* is a kernel written against free names — ``hidden``, ``output`` and ``loss``
(modules of formulas in ``activations/`` and ``losses/``), names such as ``differences``
or ``first_change`` that stand for another kernel, and constants such as ``ANALYTIC``. ``specialise(template, bindings,
parallel)`` copies the template's function with those names bound and compiles the copy
with ``cache=True``. A branch that depends on the configuration is therefore chosen in
Python, before numba sees the code, instead of being compiled and skipped at run time.

Templates that a template calls are specialised with the same bindings: compiled on their
own and linked in, or, where marked ``paste`` — and always where bound to a name, such as
``first_change`` — pasted into the caller's code (numba's inline="always"; see jit.py). Each
specialisation gets a qualified name that spells its bindings (``backprop.tanh.identity.mse``),
which names its on-disk cache file, so specialisations never share a cache entry.
Built kernels are memoised: asking twice returns the same dispatcher.

``@entry`` marks the templates that the Python layer calls: the jobs. ``ENTRIES`` lists
them for warm-up, ``fastgrad info`` and the tests. Each specialisation records, as it is
built, the kernels that numba compiles on their own for it (``callees``): those it links,
directly or through the pieces pasted into it, and theirs.

Bindings that numba cannot key a disk cache by (a user's function, the formulas built from
one by ``module_of``) compile in memory, and so does every kernel bound to them, unless
``KEYS`` names the binding by a key of everything its compiled code depends on (a user's
function from a file: fastgrad/source_keys.py); that name then spells it instead. ``bound``
binds a template the same way without compiling it: the interpreter runs the same text.
"""
import types

from numba.core.dispatcher import Dispatcher

from .jit import BORROWING, compile_function

TEMPLATES = set()  # every template function
ENTRIES = {}     # name -> template, the jobs
PASTED = set()    # templates pasted into their callers
BORROWERS = set()  # templates that allocate nothing, compiled without reference counting (jit.py)
_BUILT = {}       # (template, bindings it uses, parallel, inline, cache) -> dispatcher
_ASKED = {}       # (template, bindings as asked, parallel, inline, cache) -> dispatcher
_IN_MEMORY = set()  # the dispatchers built with cache=False
_CALLEES = {}     # dispatcher -> frozenset of the kernels compiled on their own that it calls, at any depth
KEYS = {}         # binding -> its name in qualified names: a key of its code and what that reads (an identifier)


def template(function=None, *, paste=False, borrowing=False):
    """``@template``: mark ``function`` as a template (it is never compiled as written).

    Specialised, a template compiles on its own and is linked into the kernels that call
    it; ``@template(paste=True)`` marks a small piece whose code is pasted into its callers
    instead (numba's inline="always"; see jit.py for why and when that pays), and
    ``@template(borrowing=True)`` one that allocates nothing and compiles without reference
    counting (see jit.py).
    """
    if function is None:
        return lambda f: template(f, paste=paste, borrowing=borrowing)
    TEMPLATES.add(function)
    if paste:
        PASTED.add(function)
    if borrowing:
        BORROWERS.add(function)
    return function


def entry(function=None, *, borrowing=False):
    """Mark ``function`` as a template that the Python layer calls (a job); ``borrowing``: as
    for ``template``."""
    if function is None:
        return lambda f: entry(f, borrowing=borrowing)
    ENTRIES[function.__name__] = function
    return template(function, borrowing=borrowing)


def _is_template(value):
    return isinstance(value, types.FunctionType) and value in TEMPLATES


def _tag(name, value):
    """A binding's part of a specialisation's name."""
    if value in KEYS:
        return KEYS[value]
    if isinstance(value, types.ModuleType):
        return value.__name__.rsplit(".", 1)[-1]
    function = getattr(value, "py_func", value)  # a compiled kernel's Python function
    return getattr(function, "__qualname__", None) or f"{name}_{value!r}"  # an identifier: numba names parallel loops after it


def _needs(function, bindings):
    """The names among ``bindings`` that ``function`` and the templates it calls refer to."""
    found = set()
    for name in function.__code__.co_names:
        value = bindings.get(name, function.__globals__.get(name))
        if name in bindings:
            found.add(name)
        if _is_template(value) and value is not function:
            found |= _needs(value, bindings)
    return found


def specialise(function, bindings, parallel=False, inline=False, cache=True):
    """The compiled kernel of template ``function`` with its free names bound.

    ``bindings`` is a tuple of (name, value) pairs: modules of formulas, templates, kernels
    or constants; only those that the template (or a template it calls) refers to are
    used. ``parallel=True`` compiles ``prange`` loops over threads; ``inline=True`` makes a
    piece to paste into a caller (see ``template``); ``cache=False`` compiles in memory (for
    bindings that numba cannot key a disk cache by, such as a user's function), as does a
    binding to a module marked ``IN_MEMORY`` or to a kernel built in memory.
    """
    asked = (function, bindings, parallel, inline, cache)
    built = _ASKED.get(asked)
    if built is not None:
        return built
    bindings = _used(function, bindings)
    cache = cache and not any(getattr(value, "IN_MEMORY", False) or value in _IN_MEMORY for _, value in bindings)
    key = (function, bindings, parallel, inline, cache)
    built = _BUILT.get(key)
    if built is None:
        copy = _copy(function, bindings, lambda callee, paste: specialise(callee, bindings, inline=paste, cache=cache))
        if parallel:
            copy.__qualname__ += ".parallel"
        options = {"inline": "always"} if inline else {"parallel": parallel}
        if function in BORROWERS and not inline and not parallel:  # numba's threads allocate
            options.update(BORROWING)
        built = _BUILT[key] = compile_function(copy, cache=cache, **options)
        _CALLEES[built] = _linked(copy)
        if not cache:
            _IN_MEMORY.add(built)
    _ASKED[asked] = built
    return built


def module_of(name, bindings, pieces, kernels):
    """A module ``name`` of templates specialised with ``bindings`` in memory: ``pieces`` to
    paste into callers, ``kernels`` compiled on their own; marked IN_MEMORY, so that the
    kernels it is bound into compile in memory too (the formulas of a user's functions)."""
    module = types.ModuleType(name)
    for function in pieces:
        setattr(module, function.__name__, specialise(function, bindings, inline=True, cache=False))
    for function in kernels:
        setattr(module, function.__name__, specialise(function, bindings, cache=False))
    module.IN_MEMORY = True
    return module


def bound(function, bindings):
    """Template ``function`` with its free names bound, as plain Python (not compiled): the
    same code as ``specialise`` compiles, run by the interpreter (``prange`` is ``range``)."""
    bindings = _used(function, bindings)
    return _copy(function, bindings, lambda callee, paste: bound(callee, bindings))


def _used(function, bindings):
    """The pairs of ``bindings`` that ``function`` and the templates it calls refer to."""
    needed = _needs(function, dict(bindings))
    return tuple((name, value) for name, value in bindings if name in needed)


def _copy(function, bindings, callee):
    """A copy of ``function`` whose globals see ``bindings``, templates among them, and the
    templates that it calls, replaced by ``callee(template, paste)``; named after its bindings."""
    by_name = dict(bindings)
    namespace = dict(function.__globals__)
    for name, value in bindings:
        namespace[name] = callee(value, True) if _is_template(value) else value
    for name in function.__code__.co_names:
        value = function.__globals__.get(name)
        if name not in by_name and _is_template(value):
            namespace[name] = callee(value, value in PASTED)
    copy = types.FunctionType(function.__code__, namespace, function.__name__, function.__defaults__,
                              function.__closure__)
    copy.__qualname__ = ".".join([function.__qualname__] + [_tag(k, v) for k, v in bindings])
    copy.__module__ = function.__module__
    copy.__doc__ = function.__doc__
    return copy


def callees(kernel):
    """The kernels that numba compiles on their own for ``kernel`` (a dispatcher): those it
    links, directly or through the pieces pasted into it, and theirs; recorded when a
    specialisation is built, found once for any other kernel."""
    found = _CALLEES.get(kernel)
    if found is None:
        _CALLEES[kernel] = frozenset()  # while it is walked: a name that leads back to it adds nothing
        found = _CALLEES[kernel] = _linked(kernel.py_func)
    return found


def _linked(function):
    """``callees`` of the Python function ``function``: the dispatchers its code names, directly
    or as a module's attribute (a formulas module's helper), that compile on their own, with
    their callees, and the callees of those pasted into it."""
    names = function.__code__.co_names
    values = [function.__globals__.get(name) for name in names]
    values += [getattr(value, name, None) for value in values if isinstance(value, types.ModuleType)
               for name in names]
    found = set()
    for value in values:
        if isinstance(value, Dispatcher):
            if value.targetoptions.get("inline") != "always":
                found.add(value)
            found |= callees(value)
    return frozenset(found)


def built_kernels():
    """[(entry name, parallel, bindings, dispatcher)] for every entry specialised so far."""
    names = {f: n for n, f in ENTRIES.items()}
    return [(names[f], parallel, bindings, k) for (f, bindings, parallel, inline, cache), k in _BUILT.items()
            if f in names and not inline]
