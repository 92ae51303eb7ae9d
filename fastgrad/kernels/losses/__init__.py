"""The losses as kernel formulas: one module each, with the same functions.

For n samples and p outputs, E = factor(n, p) * sum_i l_i. A module provides

    factor(n, p)                     the factor in front of the sum over samples
    sample(Z, A, YT, i)              l_i from the output block's logits Z and outputs A, (p, n)
    delta(a, YT, j, i, n, p)         dE/d(output j of sample i): of o for squared errors,
                                     of the logit for cross-entropy (softmax passes it through)
    begin(diff, acc)                 clear the accumulators of a difference
    accumulate(a, y, dp, dm, i, diff, acc)
                                     add output unit j's part of l_i(+) - l_i(-) for the output
                                     changes dp, dm (of o, or of the logit)
    finish(mass, diff, acc)          complete diff[i] = l_i(+) - l_i(-); mass_i = sum_j y_ij
    complex_sample(A, YT, i)         l_i for complex outputs (the complex step)

The built-in modules are named and described by ``fastgrad.registry``, which hands them to
``install``; its numpy references are what the tests compare the formulas with. A user's
loss (``fastgrad.Loss``) brings a module of its own, built by ``custom.py``.
"""
BY_NAME = {}  # name -> formulas module of each built-in loss (install)


def install(built_ins):
    """Take the built-in losses from the registry: (name, module, exact_change) each. Fills
    BY_NAME and marks each module's EXACT_CHANGES."""
    BY_NAME.clear()
    for name, module, exact_change in built_ins:
        BY_NAME[name] = module
        module.EXACT_CHANGES = exact_change


def formulas_of(loss):
    """The module of a built-in loss's name, or a custom Loss's own."""
    return BY_NAME[loss] if isinstance(loss, str) else loss.formulas
