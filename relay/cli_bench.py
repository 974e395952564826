"""`relay bench`: the benchmark runner of a checkout (bench/run.py), started from the CLI.

bench/ is not part of the installed package: it holds load generators, a stand-in SMSC and
scenario scripts that need the tests' support code. The command therefore runs only from a
checkout installed with `pip install -e .`, where bench/ sits next to the `relay` package,
and runs bench/run.py there with this interpreter.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click


def checkout_bench() -> Path | None:
    """bench/run.py of the checkout this `relay` package was installed from, if any."""
    runner = Path(__file__).resolve().parent.parent / "bench" / "run.py"
    return runner if runner.is_file() else None


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--quick", is_flag=True, help="Every scenario short: the whole run under 3 minutes.")
@click.option("--only", multiple=True, help="Run only this scenario (repeatable).")
@click.option("--out", default=None, help="Folder of the report (default: bench/results/).")
def bench(quick: bool, only: tuple[str, ...], out: str | None) -> None:
    """Run the benchmarks (from a checkout) and write a report under bench/results/."""
    runner = checkout_bench()
    if runner is None:
        click.echo(
            "error: `relay bench` runs from a checkout (`pip install -e .`): bench/run.py is "
            "not next to this relay package",
            err=True,
        )
        sys.exit(1)
    argv = [sys.executable, str(runner)]
    argv += ["--quick"] if quick else []
    for name in only:
        argv += ["--only", name]
    argv += ["--out", out] if out else []
    os.chdir(runner.parent.parent)
    os.execv(sys.executable, argv)


def register(main: click.Group) -> None:
    main.add_command(bench)
