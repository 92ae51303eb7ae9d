"""Start-up: each command-line job cold (an empty NUMBA_CACHE_DIR) and warm, each run in a
fresh process, for this checkout and optionally another one in the same run.

    python bench/coldstart.py                          # this checkout, median of 1 run each
    python bench/coldstart.py --repeat 3 --other /path/to/old/checkout

Prints a Markdown table of median wall times (whole processes, imports included) and, for
scale, a bare ``python -c "import numpy, numba, click"``. The machines are shared and noisy:
compare the columns of one run, not runs with each other.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

JOBS = {
    "train (default)": ["train", "--quiet"],
    "train --gradient analytic": ["train", "--quiet", "--gradient", "analytic"],
    "gradcheck (default)": ["gradcheck"],
    "info --warm-up": ["info", "--warm-up"],
}


def _timed(argv, cache, pythonpath):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    start = time.perf_counter()
    # run elsewhere: `python -m` would otherwise import the fastgrad/ of the working directory
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=cache)
    if proc.returncode not in (0, 1):  # gradcheck exits 1 on a failed check
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr}")
    return time.perf_counter() - start


def measure(pythonpath, repeat):
    """{job: (median cold seconds, median warm seconds)} for one checkout (None: the installed one)."""
    rows = {}
    for name, args in JOBS.items():
        cold, warm = [], []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as cache:
                cold.append(_timed([sys.executable, "-m", "fastgrad", *args], cache, pythonpath))
                warm.append(_timed([sys.executable, "-m", "fastgrad", *args], cache, pythonpath))
        rows[name] = (statistics.median(cold), statistics.median(warm))
        print(f"{pythonpath or 'this checkout'}: {name}: cold {rows[name][0]:.1f} s, warm {rows[name][1]:.2f} s",
              file=sys.stderr, flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per job (the median is reported)")
    parser.add_argument("--other", help="another checkout (a directory holding its fastgrad/) to time too")
    args = parser.parse_args()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    columns = {"this checkout": measure(here, args.repeat)}
    if args.other:
        columns[args.other] = measure(os.path.abspath(args.other), args.repeat)
    bare = statistics.median(_timed([sys.executable, "-c", "import numpy, numba, click"], tempfile.gettempdir(),
                                    None) for _ in range(3))
    names = list(columns)
    print("| job | " + " | ".join(f"cold: {n} | warm: {n}" for n in names) + " |")
    print("|---|" + "---:|---:|" * len(names))
    for job in JOBS:
        cells = " | ".join(f"{columns[n][job][0]:.1f} s | {columns[n][job][1]:.2f} s" for n in names)
        print(f"| {job} | {cells} |")
    print(f"\nbare `python -c \"import numpy, numba, click\"`: {bare:.2f} s; median of {args.repeat} run(s) per cell")


if __name__ == "__main__":
    main()
