"""Turn a pytest-benchmark JSON file into the Markdown table the README quotes.

    python bench/report.py run.json > table.md
"""
import json
import sys

from fastgrad.benchmark import GridResult, grid_markdown


def results_from_json(path):
    """GridResult rows (time per whole gradient or step) and the environment of the first."""
    with open(path) as f:
        data = json.load(f)
    rows = []
    for b in data["benchmarks"]:
        info = b["extra_info"]
        scale = info.get("scale", 1.0)
        rows.append(GridResult(b["group"], info["case"], info.get("n_params", 0), info.get("num_threads", 1),
                               b["stats"]["median"] * scale, b["stats"]["iqr"] * scale, b["stats"]["rounds"],
                               scale != 1.0, float("nan")))
    return rows, data["benchmarks"][0]["extra_info"] if data["benchmarks"] else {}


def main(path):
    rows, env = results_from_json(path)
    print(f"numba {env.get('numba')}, numpy {env.get('numpy')}, {env.get('num_threads')} threads "
          f"({env.get('threading_layer')} layer), {env.get('cpu_count')} CPUs, allocator {env.get('allocator')}")
    print()
    print(grid_markdown(rows))


if __name__ == "__main__":
    main(sys.argv[1])
