"""A user's own activation and loss (fastgrad.Activation, fastgrad.Loss) on every path."""
import glob
import os

import numba
import numpy as np
import pytest
from numba import njit

import fastgrad as fg


@njit
def wave(z):  # analytic, and numba takes it for complex z too
    return np.sin(z)


@njit
def wave_slope(z):
    return np.cos(z)


@njit
def huber(o, y):
    r = o - y
    return 0.5 * r * r if abs(r) <= 1.0 else abs(r) - 0.5


@njit
def huber_slope(o, y):
    r = o - y
    return r if abs(r) <= 1.0 else (1.0 if r > 0 else -1.0)


@njit
def smooth(o, y):  # analytic, for the complex step
    return (o - y) ** 2 / (1.0 + (o - y) ** 2)


@njit
def smooth_slope(o, y):
    r = o - y
    return 2.0 * r / (1.0 + r * r) ** 2


WAVE = fg.Activation("wave", wave, wave_slope)
HUBER = fg.Loss("huber", huber, huber_slope)
SMOOTH = fg.Loss("smooth", smooth, smooth_slope)


def _problem(n=30):
    rng = np.random.default_rng(5)
    net = fg.MLP([2, 6, 5, 2], hidden=WAVE, seed=3)
    return net, rng.uniform(-2, 2, size=(n, 2)), 2.0 * rng.normal(size=(n, 2))


@pytest.mark.slow
def test_custom_activation_and_loss_agree_with_backprop_on_every_path(force_threads):
    fg.set_num_threads(2)
    net, X, Y = _problem()
    exact = fg.analytic_gradient(net, X, Y, loss=HUBER)
    np.testing.assert_allclose(fg.analytic_gradient(net, X, Y, loss=HUBER, backend="numpy"), exact,
                               rtol=1e-12, atol=1e-14)
    assert fg.loss(net, X, Y, HUBER) == pytest.approx(np.mean(np.sum(HUBER.values(net.predict(X), Y), axis=1)),
                                                      rel=1e-14)
    for backend, strategy in (("numba", "incremental"), ("numba", "full"), ("python", None), ("numpy", None)):
        g = fg.numerical_gradient(net, X, Y, loss=HUBER, backend=backend, strategy=strategy)
        np.testing.assert_allclose(g, exact, rtol=1e-7, atol=1e-9, err_msg=f"{backend} {strategy}")
    steps = fg.numerical_gradient(net, X, Y, loss=HUBER, full_output=True).steps  # custom changes subtract:
    np.testing.assert_allclose(steps, np.finfo(float).eps ** (1 / 3) * np.maximum(1.0, np.abs(net.theta)),
                               rtol=1e-15)                                       # scipy's central step
    for strategy in ("incremental", "full"):
        serial = fg.numerical_gradient(net, X, Y, loss=HUBER, backend="numba", strategy=strategy)
        spread = fg.numerical_gradient(net, X, Y, loss=HUBER, backend="numba-parallel", strategy=strategy)
        np.testing.assert_array_equal(spread, serial)


@pytest.mark.slow
def test_complex_step_runs_where_the_custom_pieces_take_complex_numbers():
    net, X, Y = _problem()
    exact = fg.analytic_gradient(net, X, Y, loss=SMOOTH)
    g = fg.numerical_gradient(net, X, Y, loss=SMOOTH, method="complex-step", backend="numba")
    np.testing.assert_allclose(g, exact, rtol=1e-12, atol=1e-15)
    ramp = fg.Activation("ramp", njit(lambda z: max(z, 0.0)), njit(lambda z: 1.0 if z > 0 else 0.0))
    with pytest.raises(ValueError, match=r"^method: 'complex-step' needs ramp's value to take complex numbers; "
                                         r"it does not \(.+\); use method='central'$"):
        fg.numerical_gradient(fg.MLP([2, 3, 2], hidden=ramp), X, Y, method="complex-step")


@pytest.mark.slow
def test_a_custom_copy_of_tanh_and_mse_gives_the_builtin_gradient():
    my_tanh = fg.Activation("my_tanh", njit(lambda z: np.tanh(z)), njit(lambda z: 1.0 - np.tanh(z) ** 2))
    my_mse = fg.Loss("my_mse", njit(lambda o, y: (o - y) ** 2 / 2.0), njit(lambda o, y: (o - y)))  # p = 2 outputs
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    builtin, custom = fg.MLP([3, 7, 2], seed=1), fg.MLP([3, 7, 2], hidden=my_tanh, seed=1)
    np.testing.assert_allclose(fg.analytic_gradient(custom, X, Y, loss=my_mse),
                               fg.analytic_gradient(builtin, X, Y, loss="mse"), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(fg.numerical_gradient(custom, X, Y, loss=my_mse),
                               fg.numerical_gradient(builtin, X, Y, loss="mse"), rtol=1e-7, atol=1e-10)


def test_training_with_custom_pieces_compiles_in_memory_only():
    net, X, Y = _problem()
    history = fg.train(net, X, Y, loss=HUBER, steps=100, eta=0.05)
    assert history.losses[-1] < 0.9 * history.losses[0]
    roots = [numba.config.CACHE_DIR] if numba.config.CACHE_DIR else [os.path.dirname(fg.__file__)]
    written = [path for root in roots for path in glob.glob(os.path.join(root, "**", "*"), recursive=True)
               if "wave" in os.path.basename(path) or "huber" in os.path.basename(path)]
    assert written == []  # numba would key a disk cache by the function's name, which another may share


def test_save_and_load_a_net_with_a_custom_activation(tmp_path):
    net, X, _ = _problem(n=4)
    fg.save_weights(tmp_path / "w.npz", net)
    with pytest.raises(ValueError, match=r"unknown activation 'wave'; expected one of .* or a fastgrad.Activation"):
        fg.load_weights(tmp_path / "w.npz")
    loaded, _ = fg.load_weights(tmp_path / "w.npz", activations=[WAVE])
    assert loaded.hidden == [WAVE, WAVE]
    np.testing.assert_array_equal(loaded.theta, net.theta)


def test_bad_custom_pieces_are_refused_in_words():
    for call, message in (
            (lambda: fg.Activation("tanh", wave, wave_slope), r"name: 'tanh' is fastgrad's own; give yours another"),
            (lambda: fg.Activation("two words", wave, wave_slope), r"name: expected a name such as 'softsign'"),
            (lambda: fg.Activation("w", np.sin, wave_slope),
             r"value: w's value must be a numba-compiled function \(@numba.njit\), got ufunc"),
            (lambda: fg.Activation("w", wave, njit(lambda z: np.ones(2))),
             r"slope: w's slope must return one real number, got ndarray"),
            (lambda: fg.Loss("l", huber, njit(lambda o: o)), r"slope: l's slope failed at \(0.5, 0.25\): "),
            (lambda: fg.MLP([1, 3, 3, 1], hidden=[WAVE, "tanh"]),
             r"hidden: the custom activation 'wave' must be the only hidden activation of the net"),
            (lambda: fg.numerical_gradient(fg.MLP([1, 2, 2], output="softmax"), np.ones((2, 1)), np.eye(2), loss=HUBER),
             r"loss: a softmax output needs loss='cross-entropy', not the custom 'huber'")):
        with pytest.raises(ValueError, match=message):
            call()


def test_custom_pieces_travel_to_dask_workers_by_value():
    cloudpickle = pytest.importorskip("cloudpickle")
    wave_again, huber_again = (cloudpickle.loads(cloudpickle.dumps(piece)) for piece in (WAVE, HUBER))
    assert (wave_again.name, wave_again.value(0.3), wave_again.slope(0.3)) == ("wave", wave(0.3), wave_slope(0.3))
    assert huber_again.value(2.0, 0.5) == huber(2.0, 0.5)
    assert wave_again.formulas.IN_MEMORY and not wave_again.formulas.EXACT_CHANGES


def test_a_net_with_custom_pieces_pickles_and_copies():
    import copy
    import pickle
    net, X, Y = _problem()
    act = net.hidden[0]
    assert copy.deepcopy(act) is act and copy.copy(act) is act  # immutable: copies share its kernels
    twin = copy.deepcopy(net)
    assert twin.hidden[0] is act and twin.theta is not net.theta
    back = pickle.loads(pickle.dumps(net))
    assert back.hidden[0].name == "wave" and back.hidden[0] is not act
    assert np.array_equal(fg.analytic_gradient(back, X, Y), fg.analytic_gradient(net, X, Y))
    loss = fg.Loss("huber", huber, huber_slope)
    assert pickle.loads(pickle.dumps(loss)).name == "huber"


def test_stray_pieces_are_refused_naming_the_argument(tmp_path):
    with pytest.raises(ValueError, match=r"^hidden: expected an activation name, a fastgrad.Activation or a list "
                                         r"of names \(one per hidden layer\), got Loss$"):
        fg.MLP([1, 3, 1], hidden=fg.Loss("huber", huber, huber_slope))
    with pytest.raises(ValueError, match=r"^activations: expected fastgrad.Activation objects, got str 'x'$"):
        fg.load_weights(str(tmp_path / "w.npz"), activations=["x"])
