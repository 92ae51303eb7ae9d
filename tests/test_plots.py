"""Figures: what the reader sees (axes, colour ranges, baselines), read off the figure objects."""
import numpy as np

import fastgrad as fg
from fastgrad import plots


def _capture(monkeypatch):
    saved = {}
    monkeypatch.setattr(plots, "_save", lambda fig, path: saved.update(fig=fig))
    return saved


def test_heat_map_spans_the_data_marks_nan_and_ticks_whole_rows(monkeypatch):
    saved = _capture(monkeypatch)
    net = fg.MLP([2, 8, 3], seed=1)
    errors = np.linspace(1e-12, 1e-9, net.n_params)
    errors[4], errors[5] = np.nan, 0.0
    plots.error_heatmap("unused.png", net, errors, "t")
    panels = [ax for ax in saved["fig"].axes if ax.images]
    norm = panels[0].images[0].norm
    assert norm.vmin == errors[errors > 0].min() and norm.vmax == np.nanmax(errors)
    shown = np.ma.filled(panels[0].images[0].get_array(), np.nan)
    assert np.isnan(shown[0, 4]) and shown[0, 5] == norm.vmin  # entries 4, 5: W1 (3x8) row 0; NaN drawn as bad
    for ax in panels:
        assert all(float(t).is_integer() for t in ax.get_yticks()) and all(float(t).is_integer()
                                                                             for t in ax.get_xticks())
    assert "NaN" in saved["fig"].axes[-1].get_ylabel()


def test_threads_plot_compares_with_the_serial_backend(monkeypatch):
    saved = _capture(monkeypatch)
    results = [_result("numerical/numba", 1, 10.0), _result("numerical/numba-parallel", 1, 12.0),
               _result("numerical/numba-parallel", 2, 5.0)]
    plots.threads_plot("unused.png", results, "t")
    ax = saved["fig"].axes[0]
    (line,) = [l for l in ax.get_lines() if l.get_label().startswith("g ")]
    assert list(line.get_ydata()) == [10.0 / 12.0, 2.0]  # over numba's time, not its own 1 thread
    assert "over numba" in line.get_label()


def _result(name, threads, median):
    from types import SimpleNamespace
    return SimpleNamespace(group="g", name=name, threads=threads, median=median)


def test_decision_regions_have_a_class_legend_and_accuracy(monkeypatch):
    saved = _capture(monkeypatch)
    data = fg.datasets.spirals(n=60, seed=0)
    net = fg.MLP([2, 8, 3], output="softmax", seed=0)
    plots.fit_plot("unused.png", net, data, "spirals")
    ax = saved["fig"].axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1", "class 2"]
    accuracy = (net.predict(data.X).argmax(axis=1) == data.Y.argmax(axis=1)).mean()
    assert ax.get_title().endswith(f"training accuracy {accuracy:.1%}")


def test_loss_figure_shows_the_held_out_curve_and_the_best_step(monkeypatch):
    saved = _capture(monkeypatch)
    history = fg.History(steps=[0, 5, 10], losses=[1.0, 0.5, 0.2], held_out_steps=[0, 5, 10],
                         held_out_losses=[1.1, 0.7, 0.9], best_step=5)
    plots.loss_plot("unused.png", history, "t")
    ax = saved["fig"].axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["training", "held out", "best, step 5"]
    assert list(ax.get_lines()[1].get_ydata()) == [1.1, 0.7, 0.9]


def test_classification_beyond_two_inputs_draws_the_confusion_matrix(monkeypatch):
    saved = _capture(monkeypatch)
    rng = np.random.default_rng(0)
    data = fg.datasets.Dataset(rng.normal(size=(30, 4)), np.eye(3)[np.arange(30) % 3], kind="classification",
                               labels=("a", "b", "c"))
    net = fg.MLP([4, 5, 3], output="softmax", seed=0)
    plots.fit_plot("unused.png", net, data, "t")
    ax = saved["fig"].axes[0]
    confusion = np.asarray(ax.images[0].get_array())
    predicted = net.predict(data.X).argmax(axis=1)
    assert confusion.sum() == 30 and confusion[:, 0].sum() == (predicted == 0).sum()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
