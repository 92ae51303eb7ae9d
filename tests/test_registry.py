"""The registry: every record's numpy reference against its kernel formulas, and the tables
derived from the records."""
import math

import numpy as np
import pytest

import fastgrad as fg
from fastgrad import activations, custom, losses, registry
from fastgrad.kernels import activations as activation_formulas, losses as loss_formulas
from fastgrad.kernels.activations import mixed

RNG = np.random.default_rng(28)
Z = RNG.normal(scale=3.0, size=(3, 40))
D = np.clip(RNG.normal(scale=0.3, size=Z.shape), -0.6, 0.6) * 10.0 ** RNG.uniform(-8, 0, size=Z.shape)  # <= SMALL
ELEMENTWISE = [r for r in registry.ACTIVATIONS if r.slope is not None]  # all but softmax


def _activate(record, Z):
    A = np.full_like(Z, np.nan)
    record.formulas.activate(record.code, Z, A, np.empty(Z.size))
    return A


@pytest.mark.parametrize("record", registry.ACTIVATIONS, ids=lambda r: r.name)
def test_activation_values_match_the_numpy_reference(record):
    """activate on a (units, n) block: elementwise, or column by column for softmax, whose
    reference takes samples as rows."""
    if record.slope is None:
        np.testing.assert_allclose(_activate(record, Z), record.value(Z.T).T, rtol=1e-15)
    else:
        assert np.all(np.abs(_activate(record, Z) - record.value(Z)) <= 4 * np.spacing(np.abs(record.value(Z))))


@pytest.mark.parametrize("record", ELEMENTWISE, ids=lambda r: r.name)
def test_slopes_and_changes_match_the_numpy_reference(record):
    """times_slope against the reference slope through a = f(z); change f(z + d) - f(z), for
    |z| <= 3 and |d| <= SMALL, against the reference's values subtracted in extended precision
    (which keeps eps_long (|f(z)| + |z f'(z)|)) to 1e-12 of the change: its formula from the
    cached a, not f(z + d) - a, whose cancellation would cost up to 1e-7 here."""
    Zc = np.clip(Z, -3.0, 3.0)
    A = _activate(record, Zc)
    f = record.formulas
    slopes = np.array([f.times_slope(record.code, 1.0, z, a) for z, a in zip(Zc.flat, A.flat)]).reshape(Z.shape)
    np.testing.assert_allclose(slopes, record.slope(A), rtol=2e-16)
    changes = np.array([f.change(record.code, z, a, d) for z, a, d in zip(Zc.flat, A.flat, D.flat)]).reshape(Z.shape)
    Zl = Zc.astype(np.longdouble)
    exact = record.value(Zl + D) - record.value(Zl)
    kept = 8 * np.finfo(np.longdouble).eps * (np.abs(record.value(Zl)) + np.abs(Zc * record.slope(A)))
    assert np.all(np.abs(changes - exact) <= kept + 1e-12 * np.abs(exact))


@pytest.mark.parametrize("record", ELEMENTWISE, ids=lambda r: r.name)
def test_the_scalar_baseline_matches_the_numpy_reference(record):
    """To rounding, relative to max(|f|, 1) (sigmoid's is 1/2 (1 + tanh(z/2)))."""
    ours = np.array([record.scalar(float(z)) for z in Z.flat]).reshape(Z.shape)
    np.testing.assert_allclose(ours, record.value(Z), rtol=4e-16, atol=4e-16)


@pytest.mark.parametrize("name,output", [("squared", "identity"), ("mse", "sigmoid"),
                                         ("cross-entropy", "softmax")])
def test_loss_values_and_deltas_match_the_numpy_reference(name, output):
    """The kernel's sum of sample losses, the plain-Python baseline's and the kernel's deltas
    against the record's reference, for an output activation it pairs with (softmax: delta of
    the logit, through the probabilities)."""
    record, out = registry.LOSS[name], registry.ACTIVATION[output]
    n, p = Z.shape[1], Z.shape[0]
    Y = np.eye(p)[RNG.integers(0, p, n)] if output == "softmax" else RNG.uniform(size=(n, p))
    YT, A = np.ascontiguousarray(Y.T), _activate(out, Z)
    f = record.formulas
    E = f.factor(n, p) * sum(f.sample(Z, A, YT, i) for i in range(n))
    reference = losses.value(name, Z.T, Y, output)
    assert E == pytest.approx(reference, rel=1e-14)
    terms = [record.scalar_sample(list(z), list(y), out.scalar) for z, y in zip(Z.T, Y)]
    assert record.scalar_mean(math.fsum(terms), n, p) == pytest.approx(reference, rel=1e-14)
    delta = np.array([[f.delta(A[j, i], YT, j, i, n, p) for j in range(p)] for i in range(n)])
    if output != "softmax":
        delta *= out.slope(A.T)  # dE/do times f'(z): the kernels' delta is of the output
    np.testing.assert_allclose(delta, losses.delta(name, Z.T, Y, output), rtol=1e-13, atol=1e-17)


def test_codes_are_unique_and_the_tables_are_the_records():
    records = registry.ACTIVATIONS
    codes = [r.code for r in records] + [registry.CUSTOM_CODE]
    assert len(set(codes)) == len(codes)
    assert activations.CODES == {r.name: r.code for r in records}
    assert registry.hidden_choices() == activations.HIDDEN == tuple(r.name for r in records if r.hidden)
    assert registry.output_choices() == activations.OUTPUT == tuple(r.name for r in records if r.output)
    assert registry.loss_choices() == losses.NAMES == tuple(r.name for r in registry.LOSSES)
    assert activations.ANALYTIC == tuple(r.name for r in records if r.smooth) and "relu" not in activations.ANALYTIC
    assert "softplus" in registry.hidden_choices() and "softplus" in activations.ANALYTIC
    assert activation_formulas.BY_NAME == {r.name: r.formulas for r in records}
    assert loss_formulas.BY_NAME == {r.name: r.formulas for r in registry.LOSSES}
    assert all(r.formulas.EXACT_CHANGES == r.exact_change for r in records + registry.LOSSES)
    assert set(custom.RESERVED) == set(registry.ACTIVATION) | set(registry.LOSS)


@pytest.mark.parametrize("record", [r for r in registry.ACTIVATIONS if r.hidden], ids=lambda r: r.name)
def test_mixed_dispatches_each_hidden_code_to_its_module(record):
    z, d = 0.7, 1e-6
    a = record.value(np.array([z]))[0]
    for name in ("times_slope", "change"):
        args = (record.code, d, z, a) if name == "times_slope" else (record.code, z, a, d)
        assert getattr(mixed, name)(*args) == getattr(record.formulas, name)(*args)
    assert mixed.u_scale(record.code) == record.formulas.u_scale(record.code)
    if record.smooth:
        assert mixed.complex_value(record.code, z + 1e-20j) == record.formulas.complex_value(record.code, z + 1e-20j)


@pytest.mark.parametrize("hidden", registry.hidden_choices())
def test_a_net_of_each_hidden_activation_predicts_saves_and_loads(hidden, tmp_path):
    net = fg.MLP([2, 3, 2], hidden=hidden, output="sigmoid", seed=5)
    X = RNG.normal(size=(6, 2))
    (W0, W1), f = net.weights, registry.ACTIVATION
    expected = f["sigmoid"].value(W1[0] + f[hidden].value(W0[0] + X @ W0[1:]) @ W1[1:])
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-15)
    fg.save_weights(tmp_path / "w.npz", net)
    loaded, _ = fg.load_weights(tmp_path / "w.npz")
    assert loaded.hidden == [hidden] and loaded.layout.tolist() == net.layout.tolist()
    assert loaded.predict(X).tobytes() == net.predict(X).tobytes()
