"""fastgrad info: versions, threads, the kernel cache; --warm-up compiles every default job."""
import os
import time

import click

from .. import diagnostics
from ..kernels import cache_dir
from ..kernels.jit import CACHING
from .app import cli


@cli.command("info")
@click.option("--warm-up", is_flag=True,
              help="Compile (or load) every kernel of the default configuration now; a table of times.")
@click.option("--processes", type=click.IntRange(min=1), default=None,
              help="--warm-up: processes that compile side by side (default: one per CPU, at most 8; "
                   "one where every job is cached).")
@click.option("--clear-cache", is_flag=True,
              help="Remove fastgrad's compiled kernels (every version's) from the cache directory, then report.")
def info_command(warm_up, processes, clear_cache):
    """Versions, CPUs, numba threads and threading layer, kernel cache."""
    if processes is not None and not warm_up:
        raise ValueError("--processes: only with --warm-up")
    if clear_cache:
        removed = cache_dir.clear_cache()
        click.echo(f"removed {removed} cached kernel file{'s' if removed != 1 else ''} from "
                   f"{os.path.dirname(cache_dir.CACHE_DIR)}")
    cached, total, _ = diagnostics.cache_status()
    for key, value in diagnostics.runtime_info().items():
        click.echo(f"{key:>16}: {value}")
    click.echo(f"{'cache':>16}: {'warm' if cached == total else 'cold (first use compiles)'}"
               f"{'' if CACHING else ' (not writable: kernels compile in memory)'}")
    click.echo(f"{'cache directory':>16}: {cache_dir.CACHE_DIR} (FASTGRAD_CACHE_DIR sets its parent; "
               "--clear-cache empties it)")
    if warm_up:
        click.echo(f"\nwarm-up of every job for the default configuration "
                   f"({', '.join(diagnostics.DEFAULT_CONFIGURATION)}):")
        click.echo(f"{'job':<33} {'seconds':>8}  {'how':<9} kernel")
        if processes is None:  # where every job is cached, loading them here beats starting processes
            processes = 1 if cached == total else diagnostics.default_processes()
        start = time.perf_counter()
        rows = diagnostics.warm_up(processes=processes)
        wall = time.perf_counter() - start
        for label, name, seconds, how in rows:
            click.echo(f"{label:<33} {seconds:>8.2f}  {how:<9} {name}")
        click.echo(f"{'total':<33} {sum(r[2] for r in rows):>8.2f}")
        click.echo(f"{'wall':<33} {wall:>8.2f}  ({processes} process{'es' if processes > 1 else ''})")
    return 0
