"""python -m fastgrad: check the textbook net's gradients (Example 25.3, sizes [1, 10, 1])."""
import numpy as np

import fastgrad as fg


def main():
    rng = np.random.RandomState(111)
    X = rng.uniform(-np.pi, np.pi, 25).reshape(25, 1)
    net = fg.MLP([1, 10, 1], seed=111)
    report = fg.gradcheck(net, X, np.sin(X), loss="mse")
    print(report)
    info = fg.runtime_info()
    print(f"numba {info['numba']}, {info['num_threads']} threads ({info['threading_layer']})")
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
