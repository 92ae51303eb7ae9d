"""The optimizers' update formulas, one module each, bound into the training template as
``optimizer`` (``jobs.training_kernel``); a module provides

    update(theta, grad, eta, settings, state)   one step of theta from its gradient grad

``settings`` holds the optimizer's parameters (read only) and ``state`` what it carries from
step to step (owned by the caller, kept from chunk to chunk); ``fastgrad.optimizers`` says
how many of each. Plain descent (``sgd``) is the template's own, so a kernel that steps
with it is the one built before optimizers were bound.
"""
