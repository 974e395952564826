"""`relay bench`: run the scenario modules of bench/ and write one report under bench/results/.

    python bench/run.py [--quick] [--only NAME …] [--out DIR]     (or `relay bench …`)

A scenario is a module `bench/<module>.py` with `main(argv: list[str]) -> dict` that takes
`--quick`, starts what it needs, runs for a bounded time and returns its figures. Each runs in
a child process of its own (`bench/_scenario.py`), so one that crashes, hangs past its time
bound or grows large does not take the others or the report with it. The runner decides the
database and Redis every scenario uses and hands them over as RELAY_BENCH_DATABASE_URL and
RELAY_BENCH_REDIS_URL: the local PostgreSQL when it answers (else a SQLite file), the local
Redis when it answers (else an embedded redis-server it starts itself).

Before the first scenario, what the chosen scenarios need from outside the venv is installed,
once (bench/_install.py: Debian's `wrk`, Kannel through .ci/install-kannel.sh, Jasmin into
bench/.jasmin-venv and the RabbitMQ it needs); a scenario whose install was not possible is
reported as skipped with the command that installs it. The installs' time is reported apart
from the scenarios'.

The report: `<stamp>[-quick].json` (machine, versions, settings, installs, every target with its
figure and verdict, load average before and after each scenario, every scenario's dict) and
`<stamp>[-quick].md` (the same, for reading, the targets' table first).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._targets import evaluate, markdown_table, verdict  # noqa: E402

# (name in the report, module in bench/, time bound in s for --quick or None when a full run
# only, for a full run): a bound only stops a scenario that hangs; the quick modes themselves
# total under 3 minutes
SCENARIOS: list[tuple[str, str, int | None, int]] = [
    ("intake", "intake", 60, 300),
    ("policy", "policy", 20, 60),
    ("dispatch", "dispatch_sandbox", 60, 300),
    ("dispatch_http", "event_dispatch", None, 300),
    ("kannel", "kannel", 60, 400),
    ("e2e_smpp", "e2e_smpp", 90, 600),
    ("campaign", "campaign_plan", 60, 600),
    ("cabinet", "cabinet", 30, 1200),
    ("cost", "cost", 30, 300),
]

# what a scenario needs from outside the venv (bench/_install.py installs it first)
NEEDS: dict[str, tuple[str, ...]] = {
    "intake": ("wrk",),
    "dispatch_http": ("wrk",),
    "kannel": ("kannel", "wrk"),
    "e2e_smpp": ("jasmin", "rabbitmq"),
}

QUICK_NOTE = (
    "A quick run measures smaller books and shorter runs than the targets name (each row says "
    "so where it matters): a full `relay bench` gives the figures to judge by."
)

BOUNDS_NOTE = (
    "What bounds each target that is not met, from its profile, and what would move it: "
    'docs/scale.md, "What bounds each target, and what would move it".'
)

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/relay_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"


def pick_database(tmp: Path) -> str:
    """RELAY_BENCH_DATABASE_URL, else the local PostgreSQL if it answers, else SQLite."""
    if os.environ.get("RELAY_BENCH_DATABASE_URL"):
        return os.environ["RELAY_BENCH_DATABASE_URL"]
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    try:
        engine = create_engine(make_url(DEFAULT_PG).set(database="postgres"))
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return DEFAULT_PG
    except Exception:
        return f"sqlite:///{tmp / 'bench.db'}"


def pick_redis(tmp: Path) -> tuple[str, Any]:
    """RELAY_BENCH_REDIS_URL, else the local Redis if it answers, else an embedded one."""
    if os.environ.get("RELAY_BENCH_REDIS_URL"):
        return os.environ["RELAY_BENCH_REDIS_URL"], None
    from redis import Redis

    try:
        Redis.from_url(DEFAULT_REDIS, socket_connect_timeout=1).ping()
        return DEFAULT_REDIS, None
    except Exception:
        from relay.adapters.embedded_redis import EmbeddedRedis

        embedded = EmbeddedRedis(tmp / "redis")
        return embedded.start(), embedded


def machine_facts() -> dict[str, Any]:
    from bench._services import machine, versions

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "machine": machine(),
        "kernel": platform.release(),
        "cores": os.cpu_count(),
        "versions": versions(),
        "commit": commit,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def run_scenario(module: str, argv: list[str], bound: int, env: dict[str, str]) -> dict[str, Any]:
    """One scenario in its own process; its dict, or why there is none."""
    if not (ROOT / "bench" / f"{module}.py").is_file():
        return {"status": "skipped", "reason": f"bench/{module}.py is not in this checkout",
                "wall_seconds": 0.0}  # fmt: skip
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        out_path = Path(out.name)
    cmd = [sys.executable, str(ROOT / "bench" / "_scenario.py"), module, str(out_path), *argv]
    started = time.monotonic()
    # a session of its own: on timeout the whole group goes (its gunicorn, workers, SMSC …)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    try:
        stdout, stderr = proc.communicate(timeout=bound)
    except subprocess.TimeoutExpired:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.communicate(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue
        out_path.unlink(missing_ok=True)
        return {"status": "failed", "reason": f"still running after its bound of {bound} s",
                "wall_seconds": float(bound)}  # fmt: skip
    seconds = round(time.monotonic() - started, 1)
    try:
        result: dict[str, Any] = json.loads(out_path.read_text() or "{}")
    except (OSError, ValueError):
        result = {}
    finally:
        out_path.unlink(missing_ok=True)
    if proc.returncode != 0 and not result:
        tail = (stderr or stdout).strip().splitlines()[-6:]
        result = {"status": "failed", "reason": f"exit {proc.returncode}", "stderr_tail": tail}
    result.setdefault("status", "ok")
    result["wall_seconds"] = seconds
    return result


def render_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, dict):
        return "; ".join(f"{k} {render_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(render_value(v) for v in value)
    return str(value)


def markdown(report: dict[str, Any]) -> str:
    facts = report["machine"]
    quick = report["quick"]
    lines = [
        f"# relay bench{' --quick' if quick else ''} — {report['started_at']}",
        "",
        "## Targets",
        "",
        *markdown_table(report.get("targets", [])),
        "",
    ]
    if quick:
        lines.append(QUICK_NOTE)
        lines.append("")
    if any(t.get("met") is False for t in report.get("targets", [])):
        lines += [BOUNDS_NOTE, ""]
    lines += [
        f"- machine: {facts['machine']} (kernel {facts['kernel']})",
        f"- versions: {facts['versions']}; commit {facts['commit']}",
        f"- database: {report['settings']['database']}; redis: {report['settings']['redis']}",
        f"- load average at start: {render_value(facts['load_average_at_start'])} "
        f"(other work may share the machine: read ratios, measured in the same run)",
        f"- command: `{report['command']}`; {report['seconds']:.0f} s in all: scenarios "
        f"{report.get('scenario_seconds', 0):.0f} s, one-time installs "
        f"{report.get('install_seconds', 0):.0f} s",
    ]
    for name, done in report.get("installs", {}).items():
        how = f" (`{done['command']}`)" if done.get("command") else ""
        why = f": {done['reason']}" if done.get("reason") else ""
        lines.append(f"- install {name}: {done['status']}{how}, {done['seconds']:.0f} s{why}")
    if report.get("not_in_quick"):
        lines.append(f"- full run only: {', '.join(report['not_in_quick'])}")
    lines.append("")
    for name, result in report["scenarios"].items():
        lines.append(f"## {name} — {result.get('status')}")
        lines.append("")
        if result.get("reason"):
            lines.append(f"{result['reason']}")
            lines.append("")
        for line in result.get("summary", []):
            lines.append(f"- {line}")
        hidden = {"status", "reason", "summary", "scenario", "runs", "machine", "versions"}
        rows = {k: v for k, v in result.items() if k not in hidden}
        if rows:
            lines += ["", "| figure | value |", "| --- | --- |"]
            lines += [f"| {k} | {render_value(v)} |" for k, v in rows.items()]
        lines.append("")
    rss = report.get("peak_rss_mb")
    if rss:
        lines += ["## peak RSS (MB), web and worker processes", "", "| process | MB |",
                  "| --- | --- |"]  # fmt: skip
        lines += [f"| {k} | {render_value(v)} |" for k, v in rss.items()]
        lines.append("")
    return "\n".join(lines)


def peak_rss(scenarios: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Every scenario's `peak_rss_mb`: a number, or a dict of process → MB."""
    found: dict[str, float] = {}
    for name, result in scenarios.items():
        value = result.get("peak_rss_mb")
        if isinstance(value, dict):
            found.update({f"{name}: {proc}": mb for proc, mb in value.items()})
        elif isinstance(value, int | float):
            found[name] = value
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="every scenario short: < 3 min in all")
    ap.add_argument("--only", action="append", default=[], help="scenario name (repeatable)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args(argv)
    names = [s[0] for s in SCENARIOS]
    unknown = [n for n in args.only if n not in names]
    if unknown:
        print(f"unknown scenario {unknown}; known: {', '.join(names)}", file=sys.stderr)
        return 2
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="relay-bench-"))
    database = pick_database(tmp)
    redis_url, embedded = pick_redis(tmp)
    env = dict(os.environ, RELAY_BENCH_DATABASE_URL=database, RELAY_BENCH_REDIS_URL=redis_url,
               PYTHONPATH=str(ROOT), RELAY_LOG_LEVEL="WARNING")  # fmt: skip
    report: dict[str, Any] = {
        "command": "relay bench" + (" --quick" if args.quick else ""),
        "quick": args.quick,
        "started_at": started_at,
        "machine": machine_facts(),
        "settings": {"database": database.split("@")[-1], "redis": redis_url},
        "scenarios": {},
        "not_in_quick": [],
    }
    chosen: list[tuple[str, str, int]] = []
    for name, module, quick_bound, full_bound in SCENARIOS:
        if args.only and name not in args.only:
            continue
        bound = quick_bound if args.quick else full_bound
        if bound is None:
            report["not_in_quick"].append(name)
            continue
        chosen.append((name, module, bound))
    from bench._install import ensure

    needed = list(dict.fromkeys(need for name, _m, _b in chosen for need in NEEDS.get(name, ())))
    installs_began = time.monotonic()
    report["installs"] = ensure(needed)
    report["install_seconds"] = round(time.monotonic() - installs_began, 1)
    scenarios_began = time.monotonic()
    try:
        for name, module, bound in chosen:
            print(f"[bench] {name} …", flush=True)
            load_before = [round(x, 2) for x in os.getloadavg()]
            result = run_scenario(module, ["--quick"] if args.quick else [], bound, env)
            result["load_average"] = {"before": load_before,
                                      "after": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip
            report["scenarios"][name] = result
            status = result["status"] + (f": {result['reason']}" if result.get("reason") else "")
            print(f"[bench] {name}: {status} ({result.get('wall_seconds')} s)", flush=True)
    finally:
        if embedded is not None:
            embedded.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    report["scenario_seconds"] = round(time.monotonic() - scenarios_began, 1)
    report["peak_rss_mb"] = peak_rss(report["scenarios"])
    report["targets"] = evaluate(report["scenarios"], args.quick)
    report["seconds"] = round(time.monotonic() - began, 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = started_at.replace(":", "").replace("-", "") + ("-quick" if args.quick else "")
    # the figures first: a scenario's odd value must not cost the run its report
    (out / f"{stem}.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"
    )
    (out / f"{stem}.md").write_text(markdown(report))
    for row in report["targets"]:
        print(f"[bench] target {row['target']}: {verdict(row['met'])}, {row['figure']}")
    print(
        f"[bench] report: {out / stem}.md and .json ({report['seconds']:.0f} s: scenarios "
        f"{report['scenario_seconds']:.0f} s, installs {report['install_seconds']:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
