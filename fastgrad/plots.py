"""Figures, each a function from results to a saved PNG, PDF or SVG file (matplotlib's Agg backend, no display)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .io import atomic_path, figure_format  # noqa: E402


def _save(fig, path):
    """Write the figure as its extension says (.png, .pdf, .svg), atomically."""
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=120, bbox_inches="tight", format=figure_format("figure", path))
    finally:
        plt.close(fig)


def _finish(fig, ax, path, xlabel, ylabel, title):
    """Label, grid, legend (if any line has a label), then save."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    _save(fig, path)


def fit_plot(path, net, data, title):
    """1-D regression: the textbook's figure (prediction line, true function dotted, training
    points as open circles); 2-D classification: decision regions; other classification: the
    confusion matrix (of the test rows where there are some); otherwise predicted vs true.
    Standardised data (``data.scaling``) is drawn in the data's own units."""
    if data.kind == "classification" and data.X.shape[1] != 2:
        confusion_plot(path, net, data, title)
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    X, Y, predict = _in_data_units(net, data, data.X, data.Y)
    if X.shape[1] == 1 and data.kind == "regression" and Y.shape[1] == 1:
        lo, hi = X.min(), X.max()
        if data.X_test is not None:
            X_test = _in_data_units(net, data, data.X_test, data.Y_test)[0]
            lo, hi = min(lo, X_test.min()), max(hi, X_test.max())
        t = np.linspace(lo, hi, 400).reshape(-1, 1)
        ax.plot(t, predict(t), "b", label="prediction")
        if data.truth is not None:
            ax.plot(t, data.truth(t), ":r", label="true function")
        ax.scatter(X, Y, ec="red", fc="none", label="training points")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    elif X.shape[1] == 2 and data.kind == "classification":
        pad = 0.1 * (X.max(axis=0) - X.min(axis=0))
        lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 300), np.linspace(lo[1], hi[1], 300))
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        regions = predict(grid).argmax(axis=1).reshape(gx.shape)
        k = data.Y.shape[1]
        ax.contourf(gx, gy, regions, levels=np.arange(k + 1) - 0.5, cmap="tab10", alpha=0.3, vmin=0, vmax=9)
        labels = data.Y.argmax(axis=1)
        names = data.target_names or tuple(f"class {c}" for c in range(k))
        colours = matplotlib.colormaps["tab10"]
        for c in range(k):
            mine = labels == c
            ax.scatter(X[mine, 0], X[mine, 1], color=colours(c % 10), edgecolors="k", s=18, label=names[c])
        accuracy = float((net.predict(data.X).argmax(axis=1) == labels).mean())
        title = f"{title}\ntraining accuracy {accuracy:.1%}"
        if data.X_test is not None:
            test_accuracy = float((net.predict(data.X_test).argmax(axis=1) == data.Y_test.argmax(axis=1)).mean())
            title += f", testing {test_accuracy:.1%}"
        ax.set_xlabel(data.feature_names[0] if len(data.feature_names) == 2 else "x1")
        ax.set_ylabel(data.feature_names[1] if len(data.feature_names) == 2 else "x2")
    else:
        pred = predict(X)
        ax.scatter(Y.ravel(), pred.ravel(), s=10, fc="none", ec="b")
        lo, hi = min(Y.min(), pred.min()), max(Y.max(), pred.max())
        ax.plot([lo, hi], [lo, hi], ":r", label="predicted = true")
        ax.set_xlabel("true value")
        ax.set_ylabel("predicted value")
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    _save(fig, path)


def _in_data_units(net, data, X, Y):
    """(X, Y) in the data's own units and the net's predict for inputs in those units, the
    standardisation (``data.scaling``) undone."""
    scaling = data.scaling
    if scaling is None:
        return X, Y, net.predict
    return (scaling.original_inputs(X), scaling.original_targets(Y),
            lambda inputs: scaling.original_targets(net.predict(scaling.inputs(inputs))))


def confusion_plot(path, net, data, title):
    """Counts of (true class, predicted class) on the test rows (else the training rows), one
    cell each, the count written in it; the accuracy in the title."""
    from .metrics import classification
    held_out = data.X_test is not None
    X, Y = (data.X_test, data.Y_test) if held_out else (data.X, data.Y)
    result = classification(Y, net.predict(X))
    confusion = np.asarray(result["confusion"])
    k = confusion.shape[0]
    names = data.labels or tuple(range(k))
    fig, ax = plt.subplots(figsize=(1.5 + 0.5 * k, 1.2 + 0.5 * k))
    ax.imshow(confusion, cmap="Blues", interpolation="nearest")
    for (a, b), count in np.ndenumerate(confusion):
        ax.text(b, a, str(count), ha="center", va="center",
                color="white" if count > confusion.max() / 2 else "black", fontsize=8)
    ax.set_xticks(range(k), [str(n) for n in names], rotation=90 if k > 10 else 0)
    ax.set_yticks(range(k), [str(n) for n in names])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"{title}\n{'testing' if held_out else 'training'} accuracy {result['accuracy']:.1%}")
    _save(fig, path)


def loss_plot(path, history, title):
    """Training loss against step, log scale, and the held-out loss where it was recorded."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.semilogy(np.asarray(history.steps) + 1, history.losses, "b", label="training")
    if history.held_out_losses:
        ax.semilogy(np.asarray(history.held_out_steps) + 1, history.held_out_losses, "r", label="held out")
        if history.best_step >= 0:
            ax.axvline(history.best_step + 1, color="grey", ls=":", lw=0.8, label=f"best, step {history.best_step}")
    _finish(fig, ax, path, "step", "loss", title)


def error_heatmap(path, net, rel_errors, title):
    """Relative error |analytic - numerical| / max(|a|, |g|) per weight, one panel per layer;
    the colours span the data's range (zeros drawn at its smallest positive value, NaN in red),
    rows and columns on integer ticks."""
    layers = net.unflatten(rel_errors)
    fig, axes = plt.subplots(1, len(layers), figsize=(3.4 * len(layers), 4.2), squeeze=False,
                             layout="constrained")
    finite = rel_errors[np.isfinite(rel_errors)]
    positive = finite[finite > 0]
    vmin = float(positive.min()) if positive.size else 1e-17
    vmax = max(float(finite.max()) if finite.size else vmin, vmin * 10)
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="red")
    for l, (ax, E) in enumerate(zip(axes[0], layers), start=1):
        shown = np.where(np.isfinite(E), np.maximum(E, vmin), np.nan)
        im = ax.imshow(shown, aspect="auto", cmap=cmap, norm=matplotlib.colors.LogNorm(vmin=vmin, vmax=vmax),
                       interpolation="nearest")
        ax.set_title(f"W{l} {E.shape[0]}x{E.shape[1]}")
        ax.set_xlabel("column (unit)")
        ax.set_ylabel("row (0 = bias)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.colorbar(im, ax=axes[0].tolist(), label="relative error" + (" (red: NaN)" if finite.size < rel_errors.size
                                                                   else ""))
    fig.suptitle(title)
    _save(fig, path)


def scaling_plot(path, results, exponents, title):
    """Time per gradient vs number of parameters, log-log, one line per backend (fitted exponent
    in the legend); parallel rows at their largest thread count."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name in dict.fromkeys(r.name for r in results):
        rows = [r for r in results if r.name == name]
        top = max(r.threads for r in rows)
        rows = sorted((r for r in rows if r.threads == top), key=lambda r: r.n_params)
        label = f"{name} (P^{exponents[name]:.2f})" if name in exponents else name
        ax.loglog([r.n_params for r in rows], [r.median for r in rows], "o-", label=label)
    _finish(fig, ax, path, "parameters P", "seconds per gradient (median)", title)


def threads_plot(path, results, title):
    """Speed-up of the parallel backends over their serial twin (numba-parallel over numba,
    numba-parallel-full over numba-full; their own one-thread time where the twin was not
    measured), per size, on integer thread ticks."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for group in dict.fromkeys(r.group for r in results):
        for name in dict.fromkeys(r.name for r in results if r.threads > 1):
            rows = sorted((r for r in results if r.group == group and r.name == name), key=lambda r: r.threads)
            serial = [r.median for r in results if r.group == group and r.name == name.replace("-parallel", "")]
            base = serial or [r.median for r in rows if r.threads == 1]
            if base and len(rows) > 1:
                twin = name.replace("-parallel", "").split("/")[1] if serial else "its 1 thread"
                ax.plot([r.threads for r in rows], [base[0] / r.median for r in rows], "o-",
                        label=f"{group} {name.split('/')[1]} (over {twin})")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _finish(fig, ax, path, "threads", "speed-up over the serial backend", title)


def hsweep_plot(path, sweep, title):
    """Error against h per method, log-log, the best h of each marked, fitted slopes in the legend."""
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for method, errors in sweep.errors.items():
        floor = np.maximum(errors, 1e-18)
        slope = sweep.slopes.get(method)
        label = method + (f" (slope {slope:.2f})" if slope is not None else "")
        line, = ax.loglog(sweep.hs, floor, "o-", ms=3, label=label)
        h, e = sweep.best[method]
        ax.loglog([h], [max(e, 1e-18)], "*", ms=14, color=line.get_color())
    _finish(fig, ax, path, "step h", "max |numerical - analytic| / max |analytic|", title)
