"""Markdown tables from one benchmark run: a ``fastgrad bench`` file (PREFIX.json) or a
pytest-benchmark file (``pytest bench --benchmark-json=run.json``).

    python bench/report.py docs/bench.json --date 2026-12-01 --cpu "AMD EPYC"            # docs/performance.md
    python bench/report.py docs/bench.json --summary --date 2026-12-01 --cpu "AMD EPYC"  # the README's table
    python bench/report.py run.json > table.md                                          # pytest-benchmark

Every table starts with a line naming the run: its date, the machine's CPU, CPU count, versions,
threads and threading layer. The date and CPU come from the file where it records them (a
pytest-benchmark file does), else from ``--date`` and ``--cpu``; a run without either is refused, so
no table goes out undated. ``docs/performance.md`` and the README hold this script's output
between ``<!-- generated: COMMAND -->`` and ``<!-- end generated -->``, and ``tests/test_docs.py``
checks that COMMAND still prints it.
"""
import argparse
import json
import math
import sys

from fastgrad.benchmark import GridResult, _format_seconds, grid_markdown, size_count

# The README's table: the notebook's loop, the default numerical gradient and both backprops.
SUMMARY_BACKENDS = ("numerical/numpy", "numerical/numba-parallel", "analytic/numpy", "analytic/numba")


def _pytest_benchmark_rows(data):
    """GridResult rows of a pytest-benchmark file (time per whole gradient or step)."""
    rows = []
    for b in data["benchmarks"]:
        info = b["extra_info"]
        scale = info.get("scale", 1.0)
        rows.append(GridResult(b["group"], info["case"], info.get("n_params", 0), info.get("num_threads", 1),
                               b["stats"]["median"] * scale, b["stats"]["iqr"] * scale, b["stats"]["rounds"],
                               scale != 1.0, float("nan")))
    return rows, data["benchmarks"][0]["extra_info"] if data["benchmarks"] else {}


def load(path):
    """(rows, environment, growth exponents) of a benchmark JSON file of either kind."""
    with open(path) as f:
        data = json.load(f)
    if "results" in data:
        rows = [GridResult(**r) for r in data["results"]]
        return rows, data["environment"], data.get("growth_exponents", {})
    rows, env = _pytest_benchmark_rows(data)
    cpu = data.get("machine_info", {}).get("cpu", {}).get("brand_raw")
    recorded = {"date": data.get("datetime", "")[:10] or None, "cpu": cpu}
    return rows, {**{k: v for k, v in recorded.items() if v}, **env}, {}


def heading(env, date, cpu):
    """One line naming the run: date, CPU, CPU count, versions, threads, layer, allocator."""
    date = env.get("date", date)
    cpu = env.get("cpu", cpu)
    if not date or not cpu:
        raise ValueError("date and cpu: the file does not record them; pass --date and --cpu")
    return (f"One run on {date}: {cpu}, {env.get('cpu_count')} CPUs; numba {env.get('numba')}, "
            f"numpy {env.get('numpy')}, {env.get('num_threads')} threads ({env.get('threading_layer')} "
            f"layer); allocator {_allocator(env.get('allocator'))}.")


def _allocator(setting):
    """glibc's malloc settings as NAME=VALUE words (a string where the file recorded one)."""
    if isinstance(setting, dict):
        return ", ".join(f"{name}={value}" for name, value in setting.items())
    return setting


def summary_markdown(rows, backends=SUMMARY_BACKENDS):
    """The short table: ``backends`` at their largest thread count, time and speed-up over numpy."""
    lines = ["| size | backend | threads | time per gradient | × numpy's loop | rel. error vs analytic |",
             "|---|---|---:|---:|---:|---:|"]
    for group in dict.fromkeys(r.group for r in rows):
        mine = [r for r in rows if r.group == group]
        numpy = next((r.median for r in mine if r.name == "numerical/numpy"), math.nan)
        for name in backends:
            chosen = [r for r in mine if r.name == name]
            if not chosen:
                continue
            r = max(chosen, key=lambda r: r.threads)
            known = math.isfinite(r.rel_error) and not r.name.startswith("analytic")
            lines.append(f"| {group} | {r.name}{' ¹' if r.scaled else ''} | {r.threads} | "
                         f"{_format_seconds(r.median)} | {numpy / r.median:,.1f} | {f'{r.rel_error:.1e}' if known else '–'} |")
    if any(r.scaled for r in rows if r.name in backends):
        lines += ["", "¹ timed on an evenly spread subset of entries and scaled to the whole gradient."]
    return "\n".join(lines) + "\n"


def report(path, date=None, cpu=None, summary=False):
    """The Markdown this script prints for ``path``."""
    rows, env, exponents = load(path)
    parts = [heading(env, date, cpu), "", summary_markdown(rows) if summary else grid_markdown(rows)]
    if exponents and not summary:
        parts += ["Fitted growth exponents (time ~ P^b over the sizes):", ""]
        parts += [f"- {name}: b = {b:.2f}" + (" (two sizes only: a line through two points, not a fit)"
                                              if size_count(rows, name) == 2 else "")
                  for name, b in exponents.items()] + [""]
    return "\n".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="a fastgrad bench PREFIX.json or a pytest-benchmark JSON file")
    parser.add_argument("--date", help="the run's date, where the file does not record it")
    parser.add_argument("--cpu", help="the machine's CPU, where the file does not record it")
    parser.add_argument("--summary", action="store_true", help="the short table of the README")
    args = parser.parse_args(argv)
    try:
        sys.stdout.write(report(args.path, args.date, args.cpu, args.summary))
    except ValueError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    main()
