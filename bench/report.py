"""Turn a pytest-benchmark JSON file into the Markdown tables the README quotes.

    python bench/report.py .benchmarks/run.json > bench/latest.md
"""
import json
import sys

from fastgrad.benchmark import Timing, markdown_table


def timings_from_json(path):
    with open(path) as f:
        data = json.load(f)
    timings = []
    for b in data["benchmarks"]:
        scale = b["extra_info"].get("scale", 1.0)
        stats = b["stats"]
        timings.append(Timing(b["group"], b["extra_info"]["case"], stats["median"] * scale,
                              stats["iqr"] * scale, stats["rounds"], scale != 1.0))
    return timings, data["benchmarks"][0]["extra_info"] if data["benchmarks"] else {}


def main(path):
    timings, env = timings_from_json(path)
    print(f"numba {env.get('numba')}, numpy {env.get('numpy')}, {env.get('num_threads')} threads "
          f"({env.get('threading_layer')} layer), {env.get('cpu_count')} CPUs, allocator {env.get('allocator')}")
    print()
    print(markdown_table(timings))


if __name__ == "__main__":
    main(sys.argv[1])
