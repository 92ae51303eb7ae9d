"""The textbook size against JAX, in one process: training steps and gradient calls.

Issue 11 sets fastgrad's training steps at [1,10,1], n = 25 (tanh hidden, identity output,
mse) against a JAX loop of analytic steps (``jax.lax.fori_loop``, compiled by ``jax.jit``):
a numerical-gradient step within 2x of JAX's analytic step, an analytic step within 1x. This
script times both in the same process, alternating rounds (the fastest round of each), with
the same starting weights, float64 throughout, and prints the ratios. It also times a single
gradient call (``jax.jit(jax.grad(loss))`` against fastgrad's free and bound calls).

JAX is not a dependency of fastgrad: install it next to fastgrad to run this
(``pip install jax``).

    python bench/jax_peer.py --steps 10000 --rounds 5
"""
import argparse
import time

import numpy as np

import fastgrad as fg


def fastgrad_steps(gradient, x, y, steps, eta):
    """Seconds for ``steps`` full-batch steps of ``fastgrad.train`` and the final loss."""
    net = fg.MLP([1, 10, 1], seed=0)
    start = time.perf_counter()
    history = fg.train(net, x, y, gradient=gradient, backend="numba", steps=steps, loss="mse", eta=eta)
    seconds = time.perf_counter() - start
    assert history.steps_done == steps
    return seconds, fg.loss(net, x, y, "mse")


def jax_functions(steps, eta):
    """(gradient of the loss, a compiled loop of ``steps`` steps, the loss), in float64."""
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def loss(params, x, y):
        W1, W2 = params
        hidden = jnp.tanh(x @ W1[1:] + W1[0])
        return jnp.mean((hidden @ W2[1:] + W2[0] - y) ** 2)

    gradient = jax.jit(jax.grad(loss))

    @jax.jit
    def train(params, x, y):
        def step(_, params):
            return jax.tree_util.tree_map(lambda p, g: p - eta * g, params, gradient(params, x, y))
        return jax.lax.fori_loop(0, steps, step, params)

    return gradient, train, jax.jit(loss)


def fastest(call, repeat):
    """Seconds per call, the fastest of three rounds of ``repeat`` calls."""
    call()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            call()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000, help="training steps per round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of each")
    parser.add_argument("--eta", type=float, default=0.05)
    args = parser.parse_args()
    import jax
    x = np.linspace(-np.pi, np.pi, 25)[:, None]
    y = np.sin(x)
    start = fg.MLP([1, 10, 1], seed=0)
    params = tuple(jax.numpy.asarray(W) for W in start.weights)
    gradient, train, loss = jax_functions(args.steps, args.eta)

    def jax_steps():
        begin = time.perf_counter()
        final = jax.block_until_ready(train(params, x, y))
        return time.perf_counter() - begin, float(loss(final, x, y))

    jax_steps()  # compiles
    fastgrad_steps("numerical", x, y, 10, args.eta), fastgrad_steps("analytic", x, y, 10, args.eta)  # compile or load
    best = {"jax analytic": np.inf, "fastgrad numerical": np.inf, "fastgrad analytic": np.inf}
    final = {}
    for _ in range(args.rounds):
        for name, run in (("jax analytic", jax_steps),
                          ("fastgrad numerical", lambda: fastgrad_steps("numerical", x, y, args.steps, args.eta)),
                          ("fastgrad analytic", lambda: fastgrad_steps("analytic", x, y, args.steps, args.eta))):
            seconds, final[name] = run()
            best[name] = min(best[name], seconds)
    print(f"training steps, [1,10,1] n=25, {args.steps} steps, fastest of {args.rounds} rounds:")
    for name, seconds in best.items():
        print(f"  {name:20s} {seconds / args.steps * 1e6:6.2f} µs per step   final loss {final[name]:.6g}   "
              f"{seconds / best['jax analytic']:.2f}x JAX's analytic step")
    net = fg.MLP([1, 10, 1], seed=0)
    prob = fg.Problem(net, x, y, "mse")
    out = np.empty(net.n_params)
    calls = {"jax.jit(jax.grad(loss))": lambda: jax.block_until_ready(gradient(params, x, y)),
             "fastgrad.analytic_gradient": lambda: fg.analytic_gradient(net, x, y, "mse"),
             "Problem.analytic_gradient": lambda: prob.analytic_gradient(out=out),
             "Problem.numerical_gradient": lambda: prob.numerical_gradient(out=out)}
    print("one gradient call, fastest of 3 rounds of 2000:")
    for name, call in calls.items():
        print(f"  {name:28s} {fastest(call, 2000) * 1e6:6.2f} µs")


if __name__ == "__main__":
    main()
