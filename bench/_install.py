"""What the scenarios need from outside the relay's venv, installed by bench/run.py once,
before any scenario runs:

    wrk       Debian package `wrk` (apt-get, non-interactive; through `sudo -n` when not root)
    kannel    Kannel's bearerbox and smsbox: .ci/install-kannel.sh (Debian package `kannel`)
    jasmin    PyPI `jasmin` in its own venv, bench/.jasmin-venv: bench/_jasmin.py install
    rabbitmq  a RabbitMQ answering on 127.0.0.1:5672, which Jasmin needs: Debian package
              `rabbitmq-server`, started through its init script when it is not running

Each is left alone when already there. When an install cannot be done here (no apt-get, not
root and no password-less sudo, no network), nothing fails: the scenario that needs it finds
it missing and reports itself skipped with `command(name)`, the exact command that installs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KANNEL_SCRIPT = ".ci/install-kannel.sh"
# apt waits for a lock another install holds instead of failing at once, and gives up soon
# on a network that does not answer (its own default is two minutes per connection)
APT_OPTIONS = ["-o", "DPkg::Lock::Timeout=120", "-o", "Acquire::Retries=1",
               "-o", "Acquire::http::Timeout=20", "-o", "Acquire::https::Timeout=20"]  # fmt: skip
RABBITMQ = ("127.0.0.1", 5672)  # where bench/_jasmin.py's config points Jasmin
TIMEOUT = 900  # seconds any one install may take (Jasmin's wheels and Kannel's packages)


def _as_root() -> list[str] | None:
    """The prefix that runs a command as root: [] as root, `sudo -n` when sudo asks for no
    password, None when neither (a prompt would hang a run nobody watches)."""
    if os.geteuid() == 0:
        return []
    if not shutil.which("sudo"):
        return None
    asked = subprocess.run(["sudo", "-n", "true"], capture_output=True, stdin=subprocess.DEVNULL)
    if asked.returncode == 0:
        return ["sudo", "-n"]
    return None


def _python() -> str:
    """This interpreter, written relative to the checkout when it lives there (.venv/…)."""
    exe = Path(sys.executable)
    try:
        return str(exe.relative_to(ROOT)) if exe.is_relative_to(ROOT) else str(exe)
    except ValueError:
        return str(exe)


def command(name: str) -> str:
    """The exact command a person runs (from the checkout) to install `name`."""
    sudo = "" if os.geteuid() == 0 else "sudo "
    if name == "wrk":
        return f"{sudo}apt-get install -y wrk"
    if name == "kannel":
        return f"bash {KANNEL_SCRIPT}"
    if name == "jasmin":
        return f"{_python()} bench/_jasmin.py install"
    if name == "rabbitmq":
        return f"{sudo}apt-get install -y rabbitmq-server && {sudo}service rabbitmq-server start"
    raise KeyError(name)


def _rabbitmq_answers() -> bool:
    try:
        with socket.create_connection(RABBITMQ, timeout=2):
            return True
    except OSError:
        return False


def present(name: str) -> bool:
    if name == "wrk":
        return shutil.which("wrk") is not None
    if name == "kannel":
        from tests.support.kannel import binaries

        return binaries() is not None
    if name == "jasmin":
        from bench import _jasmin

        return _jasmin.installed()
    if name == "rabbitmq":
        return _rabbitmq_answers()
    raise KeyError(name)


def missing(name: str) -> str | None:
    """None when `name` is installed, else the skip reason: the command that installs it."""
    if present(name):
        return None
    return f"{command(name)}  ({name} is not installed; `relay bench` tries this itself first)"


def _run(argv: list[str]) -> tuple[bool, str]:
    try:
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT,
                              stdin=subprocess.DEVNULL)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
    return done.returncode == 0, " / ".join(tail)


def _install(name: str) -> tuple[bool, str]:
    """Try to install `name`: (done, why not)."""
    if name == "jasmin":
        from bench import _jasmin

        try:
            _jasmin.install(timeout=TIMEOUT)
        except (OSError, subprocess.SubprocessError) as exc:
            return False, str(exc)[-300:]
        return True, ""
    if not shutil.which("apt-get"):
        return False, "no apt-get on this machine"
    root = _as_root()
    if root is None:
        return False, "not root, and sudo wants a password"
    if name == "kannel":
        return _run(["bash", str(ROOT / KANNEL_SCRIPT)])
    package = {"wrk": "wrk", "rabbitmq": "rabbitmq-server"}[name]
    ok, why = True, ""
    if name != "rabbitmq" or not Path("/usr/sbin/rabbitmq-server").exists():
        apt = [*root, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", *APT_OPTIONS]
        ok, why = _run([*apt, "install", "-y", "-qq", "--no-install-recommends", package])
        if not ok:  # a fresh machine has no package lists yet, or stale ones
            _run([*apt, "update", "-qq"])
            ok, why = _run([*apt, "install", "-y", "-qq", "--no-install-recommends", package])
    if ok and name == "rabbitmq" and not _rabbitmq_answers():
        # installed but not running: a container's policy-rc.d kept its postinst from
        # starting it, or it was stopped; `service` runs the package's init script either way
        ok, why = _run([*root, "service", "rabbitmq-server", "start"])
        deadline = time.monotonic() + 60
        while ok and not _rabbitmq_answers() and time.monotonic() < deadline:
            time.sleep(1)
    return ok, why


def ensure(names: list[str], say: Callable[[str], None] = print) -> dict[str, dict[str, Any]]:
    """Install whatever of `names` is missing, one after the other, a progress line each;
    what was found or done, per name (for the report)."""
    done: dict[str, dict[str, Any]] = {}
    for name in names:
        if present(name):
            say(f"[bench] install {name}: already there")
            done[name] = {"status": "present", "seconds": 0.0}
            continue
        say(f"[bench] install {name}: `{command(name)}` …")
        started = time.monotonic()
        ok, why = _install(name)
        seconds = round(time.monotonic() - started, 1)
        if ok and present(name):
            say(f"[bench] install {name}: installed in {seconds:.0f} s")
            done[name] = {"status": "installed", "seconds": seconds, "command": command(name)}
        else:
            say(f"[bench] install {name}: not possible here ({why or 'still missing'}); "
                f"its scenario is skipped")  # fmt: skip
            done[name] = {"status": "not installed", "seconds": seconds,
                          "command": command(name), "reason": why}  # fmt: skip
    return done


if __name__ == "__main__":
    ensure(sys.argv[1:] or ["wrk", "kannel", "jasmin", "rabbitmq"])
