"""Training: the notebook reproduced, the analytic example, minibatches, divergence."""
import numpy as np
import pytest

import fastgrad as fg
from fastgrad import datasets
from fastgrad.kernels.specialise import built_kernels
from fastgrad.train import DivergenceError, train


def notebook_numerical_run(num_steps):
    """Example 25.3's numerical notebook, its code kept as written but for running it here."""
    n, d, m, p = 25, 1, 10, 1
    np.random.seed(111)
    X = np.random.uniform(-np.pi, np.pi, n).reshape((n, d))
    Y = np.sin(X)
    W1 = np.random.randn(d + 1, m)
    W2 = np.random.randn(m + 1, p)
    eta = 1e-2

    def aug(X):
        return np.hstack((np.ones((len(X), 1)), X))

    def predict(X, W1, W2):
        return aug(np.tanh(aug(X) @ W1)) @ W2

    def loss(Y, X, W1, W2):
        return np.mean(np.power(predict(X, W1, W2) - Y, 2))

    def update(x, i, j):
        h = 1e-5
        x0 = x[i, j].copy()
        x[i, j] = x0 + h
        f2 = loss(Y, X, W1, W2)
        x[i, j] = x0 - h
        f1 = loss(Y, X, W1, W2)
        g = (f2 - f1) / (2 * h)
        x[i, j] = x0 - eta * g

    for _ in range(num_steps):
        for W in (W1, W2):
            a, b = W.shape
            for i in range(a):
                for j in range(b):
                    update(W, i, j)
    return np.concatenate([W1.ravel(), W2.ravel()]), loss(Y, X, W1, W2)


def test_coordinate_update_reproduces_the_notebook():
    ex = datasets.seed_numerical_example()
    expected_theta, expected_loss = notebook_numerical_run(300)
    history = train(ex.net, ex.data.X, ex.data.Y, loss=ex.loss, update="coordinate", steps=300,
                    eta=ex.eta, h=ex.h)
    assert history.steps_done == 300 and history.stopped == "completed"
    np.testing.assert_allclose(ex.net.theta, expected_theta, rtol=1e-9, atol=0)
    assert fg.loss(ex.net, ex.data.X, ex.data.Y, "mse") == pytest.approx(expected_loss, rel=1e-9)


def test_seed_example_draws_match_the_notebook():
    ex = datasets.seed_numerical_example()
    np.random.seed(111)
    X = np.random.uniform(-np.pi, np.pi, 25).reshape(25, 1)
    W1, W2 = np.random.randn(2, 10), np.random.randn(11, 1)
    assert np.array_equal(ex.data.X, X)
    assert np.array_equal(ex.net.weights[0], W1) and np.array_equal(ex.net.weights[1], W2)


@pytest.mark.parametrize("h", [1e-5, None])  # None: the library's rule, in both
@pytest.mark.parametrize("backend", ["numba", "numba-parallel"])
def test_numerical_gradient_steps_equal_explicit_gradient_descent(backend, h, force_threads):
    ex = datasets.seed_numerical_example()
    net = ex.net.copy()
    for _ in range(5):
        net.theta -= 0.01 * fg.numerical_gradient(net, ex.data.X, ex.data.Y, loss="mse", h=h, backend="numba")
    train(ex.net, ex.data.X, ex.data.Y, loss="mse", backend=backend, steps=5, eta=0.01, h=h)
    assert ex.net.theta.tobytes() == net.theta.tobytes()


def test_analytic_example_trains_to_a_low_loss():
    ex = datasets.seed_analytic_example()
    start = fg.loss(ex.net, ex.data.X, ex.data.Y)
    history = train(ex.net, ex.data.X, ex.data.Y, gradient="analytic", steps=20000, eta=ex.eta)
    assert history.losses[0] == pytest.approx(start)
    assert fg.loss(ex.net, ex.data.X, ex.data.Y) < 0.02 < start


def test_analytic_steps_use_the_current_weights():
    """Each analytic step is theta - eta * backprop(theta): the notebook's W2-first ordering is gone."""
    ex = datasets.seed_analytic_example()
    net = ex.net.copy()
    expected = net.theta - 0.1 * fg.analytic_gradient(net, ex.data.X, ex.data.Y)
    train(net, ex.data.X, ex.data.Y, gradient="analytic", steps=1, eta=0.1)
    np.testing.assert_allclose(net.theta, expected, rtol=1e-14)


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [None, 30])
def test_blocked_analytic_steps_equal_the_plain_ones_bit_for_bit(monkeypatch, batch_size):
    """Training of a large problem links the blocked backprop (products.py): the same weights."""
    from fastgrad.kernels import products
    X = np.random.default_rng(5).normal(size=(41, 3))
    Y = np.tanh(X[:, :2] - X[:, 1:])
    runs = []
    for min_work in (products.BLOCKED_MIN_WORK, 0):  # 41 P is below the real threshold
        monkeypatch.setattr(products, "BLOCKED_MIN_WORK", min_work)
        net = fg.MLP([3, 9, 7, 2], seed=2)
        train(net, X, Y, gradient="analytic", steps=30, eta=0.05, batch_size=batch_size, seed=4)
        runs.append(net.theta)
    assert runs[0].tobytes() == runs[1].tobytes()
    built = [name for name, parallel, bindings, _ in built_kernels() if name == "gradient_steps"
             and ("BLOCKED", True) in bindings and ("ANALYTIC", True) in bindings]
    assert built  # the second run did compile the blocked kernel


def test_minibatch_runs_are_reproducible():
    data = datasets.sine(n=40, seed=3)

    def run(seed):
        net = fg.MLP([1, 8, 1], seed=0)
        train(net, data.X, data.Y, gradient="analytic", steps=200, eta=0.05, batch_size=8, seed=seed)
        return net.theta

    assert np.array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


def test_history_records_losses_every_k_steps():
    data = datasets.sine(n=10, seed=0)
    net = fg.MLP([1, 4, 1], seed=0)
    history = train(net, data.X, data.Y, gradient="analytic", steps=50, eta=0.01, record_every=10)
    assert history.steps == [0, 10, 20, 30, 40]
    assert history.steps_done == 50 and history.seconds > 0 and history.load_seconds > 0
    assert all(a >= b for a, b in zip(history.losses, history.losses[1:]))


@pytest.mark.parametrize("update", ["gradient", "coordinate"])
def test_divergence_stops_with_the_last_finite_weights(update):
    ex = datasets.seed_numerical_example()
    message = (r"training diverged: the loss at step \d+ is not finite or above 1e\+12 times the initial loss "
               r"\(last finite loss .* at step \d+\); try a smaller eta")
    with pytest.raises(DivergenceError, match=message) as info:
        train(ex.net, ex.data.X, ex.data.Y, loss="mse", steps=1000, eta=1e6, update=update)
    history = info.value.history
    assert history.stopped == "diverged" and history.steps_done < 1000
    assert np.all(np.isfinite(ex.net.theta))
    assert fg.loss(ex.net, ex.data.X, ex.data.Y, "mse") == pytest.approx(history.last_loss)


@pytest.mark.parametrize("kwargs,message", [
    ({"steps": 0}, r"steps: expected an integer >= 1"),
    ({"eta": 0.0}, r"eta: expected a finite number > 0"),
    ({"h": -1.0}, r"h: expected a finite number > 0"),
    ({"gradient": "exact"}, r"gradient: unknown value 'exact'"),
    ({"update": "adam"}, r"update: unknown value 'adam'"),
    ({"backend": "numpy"}, r"backend: unknown value 'numpy'"),
    ({"batch_size": 100}, r"batch_size: expected at most 25"),
    ({"batch_size": 5, "update": "coordinate"}, r"batch_size: the coordinate update runs on the full batch"),
    ({"gradient": "analytic", "update": "coordinate"}, r"gradient: the coordinate update is defined"),
])
def test_bad_training_options(kwargs, message):
    ex = datasets.seed_numerical_example()
    with pytest.raises(ValueError, match=message):
        train(ex.net, ex.data.X, ex.data.Y, **kwargs)


def overfitting_problem():
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, size=(40, 1))
    Y = np.sin(3 * X) + 0.3 * rng.normal(size=X.shape)
    Xv = rng.uniform(-1, 1, size=(40, 1))
    return fg.MLP([1, 30, 1], init="scaled", seed=1), X, Y, (Xv, np.sin(3 * Xv))


def test_validation_loss_is_recorded_with_the_training_loss_and_the_best_step():
    net, X, Y, validation = overfitting_problem()
    history = train(net, X, Y, gradient="analytic", steps=600, eta=0.1, record_every=2, validation=validation)
    assert history.held_out_steps == list(range(0, 600, 6)) and len(history.held_out_losses) == 100
    assert len(history.losses) == 300  # the training loss as recorded without validation rows
    assert history.best_loss == min(history.held_out_losses + [fg.loss(net, *validation)])
    assert history.stopped == "completed" and history.steps_done == 600


def test_patience_stops_early_and_restores_the_best_weights():
    net, X, Y, validation = overfitting_problem()
    history = train(net, X, Y, gradient="analytic", optimizer="adam", steps=20000, eta=0.05, record_every=10,
                    validation=validation, patience=200)
    assert history.stopped == "stopped early" and history.steps_done < 20000
    assert history.steps_done - history.best_step >= 200 and history.best_step % 10 == 0
    assert history.held_out_steps[-1] == history.steps_done  # the check that stopped the run
    assert fg.loss(net, *validation) == pytest.approx(history.best_loss, rel=1e-12)
    twin, *_ = overfitting_problem()
    train(twin, X, Y, gradient="analytic", optimizer="adam", steps=history.best_step, eta=0.05)
    assert twin.theta.tobytes() == net.theta.tobytes()  # the weights before step best_step, bit for bit


def test_patience_needs_validation_rows():
    net, X, Y, _ = overfitting_problem()
    with pytest.raises(ValueError, match="patience: early stopping needs validation rows"):
        train(net, X, Y, steps=5, patience=3)
