"""A throw-away prototype for scale: the textbook net in six numba kernels, one hidden layer.

Issue 9 measures fastgrad's cold start against what a prototype of the same jobs costs to
compile: tanh hidden layer, identity output, mean squared error, bias as a last weight
column, and six kernels written for that configuration alone — backprop, central differences
re-evaluating the whole loss (serial, and over threads with ``prange``), central differences
recomputing only what an entry changes, and a training loop for each gradient (with three
small helpers they call: the forward pass of a sample, the loss, one central difference). No
configuration, no checks, no outputs: the floor that fastgrad's generality is measured
against. ``bench/coldstart.py`` times this script cold in the same run as fastgrad.

    python bench/prototype.py     # compiles (or loads) the six kernels, checks them, trains

Layout: XT (d, n) and YT (p, n) hold the samples in columns; W1 is (H, d + 1) and W2 is
(p, H + 1), each with its bias in the last column; the loss is L = Σ (y − Y)² / (n p).
Gradients are flat: W1's entries, then W2's, in C order.
"""
import sys

import numpy as np
from numba import njit, prange


@njit(cache=True)
def forward(W1, W2, XT, s, z, a, y):
    """Sample s: z = W1 [x_s; 1], a = tanh z, y = W2 [a; 1], into z, a[:H] and y (a helper)."""
    H, d = W1.shape[0], XT.shape[0]
    for j in range(H):
        v = W1[j, d]
        for i in range(d):
            v += W1[j, i] * XT[i, s]
        z[j], a[j] = v, np.tanh(v)
    for k in range(W2.shape[0]):
        v = W2[k, H]
        for j in range(H):
            v += W2[k, j] * a[j]
        y[k] = v


@njit(cache=True)
def loss(W1, W2, XT, YT):
    """L = Σ_s Σ_k (W2 [tanh(W1 [x_s; 1]); 1] − y_s)_k² / (n p) (a helper)."""
    H = W1.shape[0]
    p, n = YT.shape
    z, a, y = np.empty(H), np.empty(H), np.empty(p)
    total = 0.0
    for s in range(n):
        forward(W1, W2, XT, s, z, a, y)
        for k in range(p):
            total += (y[k] - YT[k, s]) ** 2
    return total / (n * p)


@njit(cache=True)
def analytic(W1, W2, XT, YT):
    """Backprop: δ_k = 2 (y_k − Y_k) / (n p), ∂L/∂W2 = δ [a; 1]ᵀ, ∂L/∂W1 = ((W2ᵀ δ) ⊙ (1 − a²)) [x; 1]ᵀ."""
    H, d = W1.shape[0], XT.shape[0]
    p, n = YT.shape
    G1, G2 = np.zeros_like(W1), np.zeros_like(W2)
    z, a, y, delta = np.empty(H), np.empty(H), np.empty(p), np.empty(p)
    for s in range(n):
        forward(W1, W2, XT, s, z, a, y)
        for k in range(p):
            delta[k] = 2.0 * (y[k] - YT[k, s]) / (n * p)
            for j in range(H):
                G2[k, j] += delta[k] * a[j]
            G2[k, H] += delta[k]
        for j in range(H):
            back = 0.0
            for k in range(p):
                back += W2[k, j] * delta[k]
            g = back * (1.0 - a[j] * a[j])
            for i in range(d):
                G1[j, i] += g * XT[i, s]
            G1[j, d] += g
    return np.concatenate((G1.ravel(), G2.ravel()))


@njit(cache=True)
def central(A, B, flat, r, XT, YT, h):
    """(L(θ + h e_r) − L(θ − h e_r)) / 2h for entry r of ``flat``, a flat view of A or B, which
    is restored after (a helper)."""
    kept = flat[r]
    flat[r] = kept + h
    up = loss(A, B, XT, YT)
    flat[r] = kept - h
    down = loss(A, B, XT, YT)
    flat[r] = kept
    return (up - down) / (2.0 * h)


@njit(cache=True)
def full(W1, W2, XT, YT, h):
    """Central differences, the whole loss per evaluation, entry by entry."""
    A, B = W1.copy(), W2.copy()
    G = np.empty(A.size + B.size)
    for q in range(G.size):
        G[q] = central(A, B, A.ravel(), q, XT, YT, h) if q < A.size else central(A, B, B.ravel(), q - A.size, XT, YT, h)
    return G


@njit(cache=True, parallel=True)
def parallel(W1, W2, XT, YT, h):
    """``full`` over threads: each entry perturbs its own copy of the weights."""
    G = np.empty(W1.size + W2.size)
    for entry in prange(G.size):
        q = np.int64(entry)  # prange's index is unsigned: q - A.size would be a float
        A, B = W1.copy(), W2.copy()
        G[q] = central(A, B, A.ravel(), q, XT, YT, h) if q < A.size else central(A, B, B.ravel(), q - A.size, XT, YT, h)
    return G


@njit(cache=True)
def incremental(W1, W2, XT, YT, h):
    """Central differences recomputing only what entry q changes: one hidden unit a_j for
    W1[j, i], one output y_k for W2[k, j] (the forward pass, z and a, is kept)."""
    H, d = W1.shape[0], XT.shape[0]
    p, n = YT.shape
    z, a, y = np.empty((n, H)), np.ones((n, H + 1)), np.empty((n, p))  # a[s, H] = 1: the bias
    for s in range(n):
        forward(W1, W2, XT, s, z[s], a[s], y[s])
    G = np.empty(W1.size + W2.size)
    for j in range(H):
        for i in range(d + 1):
            up = down = 0.0
            for s in range(n):
                x = XT[i, s] if i < d else 1.0
                change_up = np.tanh(z[s, j] + h * x) - a[s, j]
                change_down = np.tanh(z[s, j] - h * x) - a[s, j]
                for k in range(p):
                    e = y[s, k] - YT[k, s]
                    up += (e + W2[k, j] * change_up) ** 2
                    down += (e + W2[k, j] * change_down) ** 2
            G[j * (d + 1) + i] = (up - down) / (n * p) / (2.0 * h)
    for k in range(p):
        for j in range(H + 1):
            up = down = 0.0
            for s in range(n):
                e = y[s, k] - YT[k, s]
                up += (e + h * a[s, j]) ** 2
                down += (e - h * a[s, j]) ** 2
            G[W1.size + k * (H + 1) + j] = (up - down) / (n * p) / (2.0 * h)
    return G


@njit(cache=True)
def train_analytic(W1, W2, XT, YT, eta, steps):
    """``steps`` gradient-descent steps θ ← θ − η ∇L with the backprop gradient, in place."""
    for _ in range(steps):
        G = analytic(W1, W2, XT, YT)
        W1.ravel()[:] -= eta * G[:W1.size]
        W2.ravel()[:] -= eta * G[W1.size:]


@njit(cache=True)
def train_numerical(W1, W2, XT, YT, eta, steps, h):
    """``steps`` gradient-descent steps with the incremental central-difference gradient, in place."""
    for _ in range(steps):
        G = incremental(W1, W2, XT, YT, h)
        W1.ravel()[:] -= eta * G[:W1.size]
        W2.ravel()[:] -= eta * G[W1.size:]


def main():
    """The textbook size: 25 samples of sin on [0, 2π], 10 hidden units; every kernel once."""
    rng = np.random.default_rng(0)
    XT = np.linspace(0.0, 2.0 * np.pi, 25).reshape(1, -1)
    YT = np.sin(XT)
    W1, W2 = rng.normal(0.0, 0.5, (10, 2)), rng.normal(0.0, 0.5, (1, 11))
    exact = analytic(W1, W2, XT, YT)
    for name, kernel in (("full", full), ("parallel", parallel), ("incremental", incremental)):
        gap = np.max(np.abs(kernel(W1, W2, XT, YT, 1e-5) - exact))
        if not gap < 1e-8:
            sys.exit(f"prototype: {name} differs from backprop by {gap:.2e}")
    train_analytic(W1.copy(), W2.copy(), XT, YT, 0.01, 100)
    train_numerical(W1, W2, XT, YT, 0.01, 100, 1e-5)
    print(f"prototype: six kernels agree with backprop; loss after 100 numerical steps {loss(W1, W2, XT, YT):.6g}")


if __name__ == "__main__":
    main()
