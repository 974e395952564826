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


def test_every_target_gets_its_figure_and_verdict_or_the_reason_it_has_none():
    from bench._targets import evaluate, markdown_table

    scenarios = {
        "policy": {"status": "ok", "ratio": 1.62, "decide_per_s": 150_000, "parse_per_s": 92_000},
        "kannel": {"status": "ok", "ratio": 0.5, "relay_msg_s": 400, "urllib3_direct_msg_s": 800},
        "campaign": {
            "status": "ok",
            "recipients_per_s": 12_000,
            "peak_rss_mb": 251.0,
            "settings": {"contacts": 20_000},
        },
        "intake": {"status": "skipped", "reason": "apt-get install -y wrk"},
        "e2e_smpp": {"status": "ok", "relay": {}, "jasmin": {"status": "skipped", "reason": "x"}},
    }
    rows = {row["target"]: row for row in evaluate(scenarios, quick=True)}

    assert rows["policy: decide() ≥ 1.5× phonenumbers.parse"]["met"] is True
    assert rows["relay → Kannel: ≥ 0.9× urllib3 driving Kannel"]["met"] is False
    rate = rows["campaign 100k: ≥ 10,000 recipients/s"]
    assert rate["met"] is True and "20,000-contact book, not 100,000" in rate["figure"]
    assert rows["campaign 100k: peak RSS ≤ 250 MB"]["met"] is False
    # no figure is never a verdict: a skipped scenario, or a side that did not run
    skipped = rows["intake: p99 < 50 ms"]
    assert skipped["met"] is None and "apt-get install -y wrk" in skipped["figure"]
    assert rows["e2e over SMPP: delivered ≥ 1.0× Jasmin"]["met"] is None
    assert not any(row["scenario"] == "dispatch" for row in rows.values())  # not run: no row
    table = "\n".join(markdown_table(list(rows.values())))
    assert "| **not met** |" in table and "| met |" in table and "| **no figure** |" in table


def test_a_tool_that_cannot_be_installed_turns_its_scenario_into_a_skip_with_the_command(
    monkeypatch,
):
    from bench import _install, intake

    monkeypatch.setattr(_install.shutil, "which", lambda name: None)  # no wrk, no apt-get
    done = _install.ensure(["wrk"], say=lambda line: None)
    assert done["wrk"]["status"] == "not installed"
    assert done["wrk"]["reason"] == "no apt-get on this machine"
    result = intake.main(["--quick"])
    assert result["status"] == "skipped"
    assert result["reason"].startswith(_install.command("wrk"))
    assert "apt-get install -y wrk" in result["reason"]
