"""Jasmin for the side-by-side end-to-end scenario, in a venv of its own.

    python bench/_jasmin.py install      # bench/.jasmin-venv with PyPI `jasmin` (0.11.1)

Jasmin is never a dependency of the relay: it lives in bench/.jasmin-venv (git-ignored). It
runs `jasmind.py` (jCli needs its SMPP server up: it listens, idle) with a generated
jasmin.cfg (every file under a temporary ROOT_PATH, its own loopback ports, the local
RabbitMQ at 127.0.0.1:5672 guest/guest and the bench's Redis) and is configured through jCli
(telnet): an SMPP client connector to the bench's SMSC with no throughput cap
(`submit_throughput 0`), a default MT route to it, one group and one user of the HTTP API.
The connector's id is new each run so no message left in RabbitMQ by an earlier run is
counted. `jasmind` takes a machine-wide lock (/tmp/jasmind): one runs at a time.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "bench" / ".jasmin-venv"
VERSION = "0.11.1"
JASMIND = VENV / "bin" / "jasmind.py"
USER, PASSWORD = "bench", "benchpw"


def installed() -> bool:
    return JASMIND.is_file()


def install(timeout: float = 900) -> None:
    """Create the venv and install Jasmin from PyPI (minutes: Twisted, txAMQP, …)."""
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=120)
    # a short network timeout: with no network the bench reports Jasmin skipped in seconds
    done = subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "--retries", "1",
                           "--timeout", "30", f"jasmin=={VERSION}"], capture_output=True,
                          text=True, timeout=timeout)  # fmt: skip
    if done.returncode != 0:
        tail = " / ".join(done.stderr.strip().splitlines()[-2:])
        raise subprocess.SubprocessError(f"pip install jasmin=={VERSION} failed: {tail}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _amqp_spec() -> Path:
    """Jasmin reads the AMQP 0-9-1 spec from its config folder; the pip package ships none,
    txAMQP (its dependency) does."""
    found = sorted(VENV.glob("lib/python*/site-packages/txamqp/specs/standard/amqp0-9-1*.xml"))
    if not found:
        raise RuntimeError("txAMQP's amqp0-9-1 spec is not in bench/.jasmin-venv")
    return found[0]


def write_config(home: Path, redis_url: str) -> dict[str, int]:
    ports = {
        name: _free_port() for name in ("jcli", "http", "router", "smppcm", "smpps", "smppspb")
    }
    redis = urlsplit(redis_url)
    logs = home / "log"
    logs.mkdir(parents=True, exist_ok=True)
    (home / "store").mkdir(exist_ok=True)
    quiet = "log_level = WARNING\n"
    cfg = f"""
[jcli]
bind = 127.0.0.1
port = {ports["jcli"]}
log_file = {logs}/jcli.log
{quiet}
[http-api]
bind = 127.0.0.1
port = {ports["http"]}
log_file = {logs}/http-api.log
access_log = {logs}/http-access.log
{quiet}
[router]
bind = 127.0.0.1
port = {ports["router"]}
store_path = {home}/store/
log_file = {logs}/router.log
{quiet}
[client-management]
bind = 127.0.0.1
port = {ports["smppcm"]}
store_path = {home}/store/
log_file = {logs}/smppcm.log
{quiet}
[smpp-server]
bind = 127.0.0.1
port = {ports["smpps"]}
log_file = {logs}/default-smpps_01.log
{quiet}
[smpp-server-pb]
bind = 127.0.0.1
port = {ports["smppspb"]}
log_file = {logs}/smpp-server-pb.log
{quiet}
[sm-listener]
log_file = {logs}/messages.log
{quiet}
[dlr]
log_file = {logs}/dlr.log
[amqp-broker]
host = 127.0.0.1
port = 5672
username = guest
password = guest
vhost = /
spec = {_amqp_spec()}
log_file = {logs}/amqp-client.log
{quiet}
[redis-client]
host = {redis.hostname or "127.0.0.1"}
port = {redis.port or 6379}
dbid = {(redis.path or "/0").strip("/") or 0}
log_file = {logs}/redis-client.log
{quiet}
[service-smppclient]
log_file = {logs}/service-smppclients.log
{quiet}
[deliversm-thrower]
log_file = {logs}/deliversm-thrower.log
[dlr-thrower]
log_file = {logs}/dlr-thrower.log
"""
    (home / "jasmin.cfg").write_text(cfg)
    return ports


class Jcli:
    """A jCli telnet session: each command is a line; the answer ends at the next prompt."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        # it negotiates telnet options and prints no "Username: " until a client answers
        # them; a plain socket may simply type the user name after this line
        self._until(b"Authentication required")
        self.sock.sendall(b"jcliadmin\r\n")
        self._until(b"Password: ")
        self.sock.sendall(b"jclipwd\r\n")
        self._until(b"jcli : ")

    def _until(self, *marks: bytes) -> str:
        deadline = time.monotonic() + 20
        while not any(m in self.buf for m in marks):
            if time.monotonic() > deadline:
                raise TimeoutError(f"jCli: no {marks!r} in {self.buf[-300:]!r}")
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"jCli closed: {self.buf[-300:]!r}")
            self.buf += chunk
        cut = max(self.buf.rfind(m) + len(m) for m in marks if m in self.buf)
        text, self.buf = self.buf[:cut], self.buf[cut:]
        return text.decode("utf-8", "replace")

    def run(self, *lines: str) -> str:
        """Send lines (an interactive block ends with `ok`); the text up to the main prompt."""
        out = ""
        for line in lines:
            self.sock.sendall(line.encode() + b"\r\n")
            out += self._until(b"jcli : ", b"> ")
        return out

    def close(self) -> None:
        try:
            self.sock.sendall(b"quit\r\n")
        except OSError:
            pass
        self.sock.close()


def run(
    smsc: Any, tmp: Path, phase: Callable[[str, str, list[int]], dict[str, Any]]
) -> dict[str, Any]:
    """Start Jasmin against `smsc`, run `phase(url, credentials, pids)`; stop it."""
    from bench._install import missing

    if reason := missing("jasmin") or missing("rabbitmq"):
        return {"status": "skipped", "reason": reason}
    redis_url = os.environ.get("RELAY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    from redis import Redis

    Redis.from_url(redis_url).flushdb()
    home = tmp / "jasmin"
    ports = write_config(home, redis_url)
    env = dict(os.environ, ROOT_PATH=str(home), LOG_PATH=str(home / "log"),
               CONFIG_PATH=str(home), STORE_PATH=str(home / "store"))  # fmt: skip
    log = open(home / "jasmind.out", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [str(VENV / "bin" / "python"), str(JASMIND), "-c", str(home / "jasmin.cfg")],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=home,
    )  # fmt: skip
    started = time.monotonic()
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                tail = (home / "jasmind.out").read_text(errors="replace")[-600:]
                return {"status": "failed", "reason": f"jasmind exited {proc.returncode}: {tail}"}
            try:
                cli = Jcli(ports["jcli"])
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        cid = "b" + uuid.uuid4().hex[:8]
        binds = smsc.state()["binds"]
        answers = cli.run(
            "smppccm -a", f"cid {cid}", "host 127.0.0.1", f"port {smsc.port}",
            "username relay", "password secret", "submit_throughput 0", "ok",
            f"smppccm -1 {cid}",
            "mtrouter -a", "type defaultroute", f"connector smppc({cid})", "rate 0.00", "ok",
            "group -a", "gid bench", "ok",
            "user -a", f"username {USER}", f"password {PASSWORD}", "gid bench", "uid bench", "ok",
        )  # fmt: skip
        cli.close()
        for expected in ("Successfully added connector", "Successfully started connector",
                         "Successfully added MTRoute", "Successfully added User"):  # fmt: skip
            if expected not in answers:
                return {"status": "failed", "reason": f"jCli did not say {expected!r}: "
                        f"{answers[-500:]}"}  # fmt: skip
        while smsc.state()["binds"] <= binds:
            if time.monotonic() > deadline:
                return {"status": "failed", "reason": "Jasmin's connector never bound the SMSC"}
            time.sleep(0.1)
        ready = round(time.monotonic() - started, 1)
        result = phase(f"http://127.0.0.1:{ports['http']}/send", f"{USER}:{PASSWORD}", [proc.pid])
        result["version"] = VERSION
        result["ready_after_s"] = ready
        result["settings"] = ("jasmind.py (its SMPP server idle), RabbitMQ and Redis local, "
                              "connector submit_throughput 0 (no cap), default route")  # fmt: skip
        from bench._procs import peak_rss_mb

        result["peak_rss_mb"] = peak_rss_mb(proc.pid)
        return result
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


if __name__ == "__main__":
    if sys.argv[1:] == ["install"]:
        install()
        print(f"jasmin {VERSION} in {VENV}")
    else:
        print(__doc__)
