"""fastgrad bench: every backend timed side by side; JSON, Markdown and figures."""
import sys
import time

import click

from .. import policy, runtime
from ..io import write_json, write_text
from .app import STOPS, cli
from .common import cluster, cluster_option
from .options import cluster_options, input_option, output_option

OUT_SUFFIXES = (".json", ".md", "-scaling.png", "-threads.png")


def _thread_counts(ctx, param, value):
    if value is None:
        return None
    try:
        counts = sorted({int(v) for v in value.split(",")})
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers such as 1,2, got {value!r}") from None
    if counts[0] < 1:
        raise click.BadParameter(f"thread counts must be >= 1, got {value!r}")
    return counts


def _out_files(label, prefix):
    return [(f"{label} ({suffix})", prefix + suffix) for suffix in OUT_SUFFIXES]


@cli.command("bench")
@click.option("--sizes", "specs", multiple=True,
              help="Network and data size as WIDTHS:SAMPLES, e.g. 8-64-4:1000 (repeatable).")
@click.option("--backends", default=None,
              help=f"Comma-separated: python, numpy, numba-full, {policy.NUMBA_PARALLEL}-full, numba, "
                   f"{policy.NUMBA_PARALLEL}, analytic-numpy, analytic-numba, numba-bound, analytic-numba-bound "
                   "(a Problem's methods), dask (with --dask-workers or --scheduler) [all].")
@click.option("--threads", "thread_counts", callback=_thread_counts, default=None,
              help=f"Thread counts for {policy.NUMBA_PARALLEL}, e.g. 1,2 [1 and all].")
@click.option("--quick", is_flag=True, help="A small grid that runs in seconds.")
@output_option("--out", "prefix", default="fastgrad-bench", show_default=True, type=str, files=_out_files,
               help="Output prefix: PREFIX.json, PREFIX.md, PREFIX-scaling.png, PREFIX-threads.png.")
@input_option("--compare", "old", help="An earlier PREFIX.json to compare with.")
@click.option("--default-allocator", is_flag=True,
              help="Leave glibc's malloc thresholds alone (numpy's loop then page-faults on temporaries).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@cluster_options
def bench_command(specs, backends, thread_counts, quick, prefix, old, default_allocator, quiet, scheduler,
                  dask_workers):
    """Time every backend side by side; write JSON, Markdown and plots."""
    from .. import benchmark
    option = cluster_option(scheduler, dask_workers)
    specs = list(specs) or list(benchmark.QUICK_GRID if quick else benchmark.DEFAULT_GRID)
    for spec in specs:
        benchmark.parse_size(spec)
    names = benchmark.ALL_BACKENDS + benchmark.CLUSTER_BACKENDS
    chosen = tuple(b.strip() for b in backends.split(",")) if backends else \
        benchmark.ALL_BACKENDS + (benchmark.CLUSTER_BACKENDS if option else ())
    for b in chosen:
        if b not in names:
            raise ValueError(f"--backends: unknown backend {b!r}; expected some of {', '.join(names)}")
    if "dask" in chosen and option is None:
        raise ValueError("--backends: dask needs a cluster: --dask-workers N (a local one) or --scheduler ADDRESS")
    if option is not None and "dask" not in chosen:
        raise ValueError(f"{option}: --backends leaves out dask, the only backend that uses the cluster")
    earlier = benchmark.read_comparison(old) if old else None  # before the run; earlier results stay until replaced
    counts = thread_counts or sorted({1, runtime.max_threads()})
    if counts[-1] > runtime.max_threads():
        raise ValueError(f"--threads: at most {runtime.max_threads()} threads here")
    with cluster(option, scheduler, dask_workers) as client:
        return _bench(specs, chosen, counts, quick, prefix, old, earlier, default_allocator, quiet, client)


def _bench(specs, chosen, counts, quick, prefix, old, earlier, default_allocator, quiet, client):
    """bench_command's run, timing dask on ``client``'s cluster when one is given."""
    from .. import benchmark, plots
    if not default_allocator:
        benchmark.tune_allocator()
    total = len(specs) * sum(len(counts) if "parallel" in b else 1 for b in chosen)
    bar = None if quiet else click.progressbar(length=total, file=sys.stderr, label="benchmarking")
    if bar is not None:
        bar.__enter__()
    try:
        results, partial = benchmark.run_grid(specs, chosen, counts, progress=bar and (lambda r: bar.update(1)),
                                              min_seconds=0.05 if quick else 0.5, client=client)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if not results:
        click.echo(f"{STOPS.words} before anything was measured; no file written.", err=True)
        return STOPS.code
    env = benchmark.environment()
    table = benchmark.grid_markdown(results)
    exponents = benchmark.growth_exponents(results)
    write_json(prefix + ".json", benchmark.results_to_json(results, partial))
    heading = (f"fastgrad bench{' (partial: interrupted)' if partial else ''} — {time.strftime('%Y-%m-%d')}, "
               f"{env['cpu_count']} CPUs, numba {env['numba']} ({env['threading_layer']} layer), "
               f"allocator {env['allocator']}\n\n")
    growth = "".join(f"- {k}: time ~ P^{v:.2f}"
                     + (" (two sizes only: a line through two points, not a fit)"
                        if benchmark.size_count(results, k) == 2 else "") + "\n" for k, v in exponents.items())
    write_text(prefix + ".md", heading + table + ("\nFitted growth exponents:\n\n" + growth if growth else ""))
    if results:
        plots.scaling_plot(prefix + "-scaling.png", results, exponents, "time per gradient vs parameters")
        plots.threads_plot(prefix + "-threads.png", results, f"{policy.NUMBA_PARALLEL}: speed-up vs threads")
    click.echo(heading + table)
    if growth:
        click.echo("Fitted growth exponents:\n" + growth)
    if earlier is not None:
        click.echo("\n".join(["Compared with " + old + ":"] + benchmark.compare(results, earlier)))
    if partial:
        click.echo(f"{STOPS.words}: the files hold what was measured, marked partial.", err=True)
        return STOPS.code
    return 0
