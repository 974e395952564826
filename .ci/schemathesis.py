"""Fuzz the whole HTTP API with schemathesis against a real `relay web` (gunicorn).

    .venv/bin/python .ci/schemathesis.py [--max-examples 12] [--max-time 75] [--seed N]

Starts, on a free loopback port, a relay with its own SQLite database and the embedded Redis
(relay.adapters.embedded_redis) under a temporary RELAY_HOME; creates a tenant, an admin key and
an operator token; then runs `schemathesis run /openapi.json` three times, each bounded in
examples per operation and in time: with the tenant's admin key, with the operator token, and
with no key at all. A run fails on any 5xx (`not_a_server_error`) and on any answer that is not
what /openapi.json says it is (`response_schema_conformance`). Left out: `DELETE /v1/keys/{id}`
(it would revoke the key the run uses) and the two routes whose whole point is to call a
service outside this machine (`POST /v1/providers/{name}/check` asks the gateway,
`GET /connectors/amocrm/oauth/callback` exchanges a code with amoCRM): they answer 502 by design
when it fails. The server runs with every HTTP proxy variable pointing at a closed loopback port
and amoCRM's API base on loopback, so nothing the fuzzer makes up can reach another host.

Exits non-zero when any run found a failure; prints one line per run and a summary line
`schemathesis: N cases, F failures`.

Only loopback addresses are used.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CHECKS = "not_a_server_error,response_schema_conformance"
OPERATOR_TOKEN = "schemathesis-operator-token-0123456789"
DEAD_END = "http://127.0.0.1:9"  # a closed loopback port: any outbound HTTP fails here


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def relay_cli(env: dict[str, str], *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "relay.cli", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout) if out.stdout.strip() else {}


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("relay web exited at start")
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError("relay web did not answer /healthz")


def run_schemathesis(
    label: str, url: str, header: str | None, args: argparse.Namespace, report: Path
) -> tuple[int, int, int]:
    """One schemathesis run; returns (exit code, cases, failures)."""
    cmd = [
        str(VENV_BIN / "schemathesis"),
        "run",
        f"{url}/openapi.json",
        "--url",
        url,
        "--checks",
        CHECKS,
        "--max-examples",
        str(args.max_examples),
        "--max-time",
        str(args.max_time),
        "--workers",
        "1",  # hypothesis's lambda-source cache is not thread-safe (a spurious runtime error)
        "--phases",
        "examples,coverage,fuzzing",
        "--exclude-path",
        "/v1/keys/{key_id}",
        "--exclude-path",
        "/v1/providers/{name}/check",
        "--exclude-path",
        "/connectors/amocrm/oauth/callback",
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "20",
        "--no-shrink",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    if args.seed is not None:
        cmd += ["--seed", str(args.seed)]
    if header:
        cmd += ["-H", f"Authorization: Bearer {header}"]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.max_time * 4 + 120)
    elapsed = time.monotonic() - started
    output = proc.stdout + proc.stderr
    log = report.with_suffix(".log")
    log.write_text(output)
    found = re.search(r"(\d+) generated(?:, (\d+) found)?", output)
    cases = int(found.group(1)) if found else 0
    failures = int(found.group(2) or 0) if found else 0
    errors = re.search(r"(\d+) errors?\b", output.splitlines()[-1] if output else "")
    print(
        f"  {label}: {cases} cases, {failures} failures"
        f"{f', {errors.group(1)} errors' if errors else ''} in {elapsed:.0f} s "
        f"(exit {proc.returncode})",
        flush=True,
    )
    if proc.returncode != 0:
        # the failing operations and what failed, not the whole report (it is in `log`)
        keep = [
            line
            for line in output.splitlines()
            if re.match(r"^_{3,} .* _{3,}$", line)
            or re.match(r"^(- ST\d+|\s+\[\d{3}\]|\s+curl )", line)
            or "Runtime Error" in line
        ]
        print("\n".join(keep[:200]) or output[-3000:], flush=True)
    return proc.returncode, cases, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=12, help="per operation and run")
    parser.add_argument("--max-time", type=int, default=75, help="seconds per run")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the temporary RELAY_HOME")
    parser.add_argument(
        "--database-url", default=None, help="an empty database to use instead of SQLite"
    )
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="relay-schemathesis-"))
    from relay.adapters.embedded_redis import EmbeddedRedis

    redis = EmbeddedRedis(home / "var" / "redis")
    redis_url = redis.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    env.update(
        RELAY_HOME=str(home),
        RELAY_DATABASE_URL=args.database_url or f"sqlite:///{home / 'relay.db'}",
        RELAY_REDIS_URL=redis_url,
        RELAY_ADMIN_TOKEN=OPERATOR_TOKEN,
        RELAY_SECRET_KEY="schemathesis-secret-key-not-for-production",
        RELAY_LOG_LEVEL="WARNING",
        # the fuzzer is one client sending as fast as it can: limits that do not refuse it
        RELAY_RATE_LIMIT_PER_KEY="100000/second",
        RELAY_RATE_LIMIT_PER_IP="100000/second",
        RELAY_RATE_LIMIT_WEBHOOK="100000/second",
        PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}",
        # configured (with made-up credentials) so its routes are tested past "not configured"
        RELAY_CONNECTORS=json.dumps(
            {
                "amocrm": {
                    "client_id": "fuzz",
                    "client_secret": "fuzz-secret",
                    "redirect_uri": "http://127.0.0.1/connectors/amocrm/oauth/callback",
                    "api_base_override": DEAD_END,
                }
            }
        ),
        HTTP_PROXY=DEAD_END,
        HTTPS_PROXY=DEAD_END,
        http_proxy=DEAD_END,
        https_proxy=DEAD_END,
        NO_PROXY="",
        no_proxy="",
    )
    web: subprocess.Popen | None = None
    code = 1
    try:
        relay_cli(env, "db", "upgrade")
        tenant = relay_cli(env, "tenants", "create", "fuzz", "--region", "RU")
        key = relay_cli(env, "keys", "create", tenant["id"], "--scope", "admin")["key"]
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        web_log = (home / "web.log").open("wb")
        web = subprocess.Popen(
            [sys.executable, "-m", "relay.cli", "web", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=web_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_ready(url, web)
        print(f"schemathesis against {url} (RELAY_HOME {home})", flush=True)
        totals = [0, 0]
        worst = 0
        for label, header in (
            ("admin key", key),
            ("operator token", OPERATOR_TOKEN),
            ("no key", None),
        ):
            rc, cases, failures = run_schemathesis(
                label, url, header, args, home / f"report-{label.replace(' ', '-')}.ndjson"
            )
            totals[0] += cases
            totals[1] += failures
            worst = max(worst, rc)
        print(f"schemathesis: {totals[0]} cases, {totals[1]} failures", flush=True)
        code = 1 if worst or totals[1] else 0
        if code:
            server = (home / "web.log").read_text(errors="replace")
            errors = [line for line in server.splitlines() if '"level": "error"' in line]
            if errors:
                print("server errors (first 5):", *errors[:5], sep="\n", flush=True)
    finally:
        if web is not None and web.poll() is None:
            os.killpg(web.pid, signal.SIGTERM)
            try:
                web.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(web.pid, signal.SIGKILL)
        redis.stop()
        if not args.keep and not code:
            shutil.rmtree(home, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
