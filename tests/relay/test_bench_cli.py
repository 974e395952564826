"""`relay bench`: it runs the checkout's bench/run.py (the scenarios themselves are benchmarks,
run by `relay bench --quick`, not by the tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from relay.cli_bench import checkout_bench

ROOT = Path(__file__).resolve().parents[2]


def test_the_checkout_runner_is_found_next_to_the_package():
    assert checkout_bench() == ROOT / "bench" / "run.py"


def test_an_unknown_scenario_is_refused_before_anything_starts(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "relay.cli", "bench", "--only", "nope", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unknown scenario ['nope']" in done.stderr
    assert "e2e_smpp" in done.stderr
    assert list(tmp_path.iterdir()) == []
