"""Start-up: each command-line job cold (an empty NUMBA_CACHE_DIR) and warm, each run in a
fresh process, for this checkout and optionally another one in the same run.

    python bench/coldstart.py                          # this checkout, median of 1 run each
    python bench/coldstart.py --repeat 3 --other /path/to/old/checkout

For scale it also times ``bench/prototype.py`` (the textbook net in six kernels written for
its configuration alone) cold, before and after the checkouts, and gives each cold job as a
multiple of it.

Prints a Markdown table of median wall times (whole processes, imports included) and, for
scale, a bare ``python -c "import numpy, numba, click"``, timed right after each warm run, and
each warm median as a multiple of it. The machines are shared and noisy: compare the columns of
one run, not runs with each other.
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
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, FASTGRAD_CACHE_DIR=cache)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    start = time.perf_counter()
    # run elsewhere: `python -m` would otherwise import the fastgrad/ of the working directory
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=cache)
    if proc.returncode not in (0, 1):  # gradcheck exits 1 on a failed check
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr}")
    return time.perf_counter() - start


BARE = [sys.executable, "-c", "import numpy, numba, click"]
WARM_RUNS = 3  # warm runs per cold one: they are short, and the noisier for it


def prototype_cold(repeat):
    """Cold seconds of ``repeat`` runs of bench/prototype.py, each with an empty cache."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "prototype.py")
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as cache:
            times.append(_timed([sys.executable, script], cache, None))
    return times


def measure(pythonpath, repeat, bare):
    """{job: (median cold seconds, median warm seconds)} for one checkout (None: the installed one);
    appends to ``bare`` a bare import's time after each warm run."""
    rows = {}
    for name, args in JOBS.items():
        cold, warm = [], []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as cache:
                cold.append(_timed([sys.executable, "-m", "fastgrad", *args], cache, pythonpath))
                for _ in range(WARM_RUNS):
                    warm.append(_timed([sys.executable, "-m", "fastgrad", *args], cache, pythonpath))
                    bare.append(_timed(BARE, cache, None))
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
    bare = []
    prototype = prototype_cold(args.repeat)
    columns = {"this checkout": measure(here, args.repeat, bare)}
    if args.other:
        columns[args.other] = measure(os.path.abspath(args.other), args.repeat, bare)
    prototype = statistics.median(prototype + prototype_cold(args.repeat))
    bare = statistics.median(bare)
    names = list(columns)
    print("| job | " + " | ".join(f"cold: {n} | warm: {n}" for n in names) + " |")
    print("|---|" + "---:|---:|" * len(names))
    for job in JOBS:
        cells = " | ".join(f"{columns[n][job][0]:.1f} s ({columns[n][job][0] / prototype:.1f}×) | "
                           f"{columns[n][job][1]:.2f} s ({columns[n][job][1] / bare:.1f}×)" for n in names)
        print(f"| {job} | {cells} |")
    print(f"\ncold bench/prototype.py: {prototype:.1f} s (cold × is job / prototype); bare `python -c \"import "
          f"numpy, numba, click\"`: {bare:.2f} s (warm × is job / bare); medians of {args.repeat} cold and "
          f"{args.repeat * WARM_RUNS} warm run(s) per cell")


if __name__ == "__main__":
    main()
