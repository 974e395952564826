"""The `relay` command: the main job (`relay up`), its parts, and operator commands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING

import click

from relay.cli_util import echo_json, require_database
from relay.config import load_config

if TYPE_CHECKING:
    from relay.adapters.embedded_redis import EmbeddedRedis


# gthread threads per web worker: a thread waiting on the database costs little, and the events
# waiting together in one process share one transaction (relay/intake/group_commit.py)
WEB_THREADS = 16


@click.group()
def main() -> None:
    """Consent-aware SMS and Viber relay for Bitrix24, amoCRM and WooCommerce stores."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def db_upgrade(as_json: bool) -> None:
    """Migrate the database to the newest schema."""
    from alembic.script import ScriptDirectory
    from sqlalchemy.exc import SQLAlchemyError

    from relay.cli_util import fail
    from relay.storage.db import alembic_config, upgrade

    url = load_config()["DATABASE_URL"]
    try:
        upgrade(url)
    except SQLAlchemyError as exc:  # e.g. PostgreSQL not reachable: say so, exit 1
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(RuntimeError(f"cannot migrate the database at {_safe_url(url)}: {reason}"), as_json, 1)
    if as_json:
        head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        echo_json({"database": _safe_url(url), "revision": head, "up_to_date": True})
    else:
        click.echo(f"database at {_safe_url(url)} is up to date")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--no-scheduler", is_flag=True, help="Do not run RQ's scheduler here.")
@click.option("--no-sweeper", is_flag=True, help="Do not run the periodic sweeper here.")
def worker(burst: bool, no_scheduler: bool, no_sweeper: bool) -> None:
    """Run a delivery worker (RQ) with the scheduler and the sweeper."""
    from rq import Queue

    from relay.adapters.leader import LeaderLease, PeriodicDuties
    from relay.adapters.redis_conn import RelayWorker, work_through_failovers, worker_client
    from relay.campaigns.runs import run_due_campaigns
    from relay.delivery.sweeper import sweep
    from relay.growth.tick import growth_tick
    from relay.logs import setup_logging, setup_sentry
    from relay.wiring import get_runtime

    require_database()
    rt = get_runtime()
    setup_logging(rt.config["LOG_LEVEL"])
    setup_sentry(rt.config.get("SENTRY_DSN"), "worker")
    duties = None
    if not no_sweeper:
        # every worker on every host offers; the one holding the lease runs them
        interval = int(rt.config["SWEEP_INTERVAL_SECONDS"])
        grace = int(rt.config["REQUEUE_GRACE_SECONDS"])
        duties = PeriodicDuties(
            LeaderLease(rt.redis, "periodic-duties", ttl_seconds=2 * interval + 5),
            [
                lambda: sweep(rt, grace_seconds=grace),
                # recurring campaigns and greetings, and launches whose planner died
                lambda: run_due_campaigns(rt),
                lambda: growth_tick(rt),  # clicks into the database, orders credited
            ],
            interval,
        )
        duties.start()
    from relay.platforms.writeback import WRITEBACK_QUEUE

    def build() -> RelayWorker:
        # a client of its own: RQ's blocking dequeue needs a longer read timeout than commands
        conn = worker_client(rt.config["REDIS_URL"])
        queues = [
            Queue(rt.config["QUEUE_NAME"], connection=conn),
            Queue(WRITEBACK_QUEUE, connection=conn),
        ]
        return RelayWorker(queues, connection=conn)

    try:
        work_through_failovers(build, burst=burst, with_scheduler=not no_scheduler)
    finally:
        if duties is not None:  # a clean stop hands the lease on at once
            duties.stop()
            duties.lease.release()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", "web_workers", default=2, show_default=True, type=int)
@click.option(
    "--threads",
    default=WEB_THREADS,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads per worker: requests waiting on the database together share a commit.",
)
def web(host: str, port: int, web_workers: int, threads: int) -> None:
    """Run the web API under gunicorn."""
    require_database()
    os.execv(
        sys.executable,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(web_workers),
            "-k",
            "gthread",
            "--threads",
            str(threads),
            "-b",
            f"{host}:{port}",
            "--access-logfile",
            "-",
            # no phone, message text or callback token in the access log (relay/access_log.py)
            "--logger-class",
            "relay.access_log.MaskedAccessLogger",
            "relay.wsgi:app",
        ],
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    "n_workers",
    default=2,
    show_default=True,
    type=int,
    help="Delivery worker processes.",
)
def up(host: str, port: int, n_workers: int) -> None:
    """The main job: migrate, embedded Redis if needed, web server and workers."""
    from sqlalchemy.exc import SQLAlchemyError

    from relay.bootstrap import ensure_demo_tenant, start_embedded_redis_if_needed
    from relay.config import relay_home
    from relay.storage.db import upgrade

    # before anything starts (or says "up"): the port must be free
    problem = _port_problem(host, port)
    if problem:
        click.echo(f"error: {problem}; stop what uses it or choose another --port", err=True)
        sys.exit(1)
    os.environ["RELAY_HOME"] = str(relay_home())  # the children find the same files
    cfg = load_config()
    embedded = start_embedded_redis_if_needed(cfg)
    os.environ["RELAY_DATABASE_URL"] = cfg["DATABASE_URL"]
    os.environ["RELAY_SECRET_KEY"] = cfg["SECRET_KEY"]
    try:
        upgrade(cfg["DATABASE_URL"])
    except SQLAlchemyError as exc:  # e.g. PostgreSQL not reachable
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        click.echo(f"error: cannot migrate {_safe_url(cfg['DATABASE_URL'])}: {reason}", err=True)
        if embedded:
            embedded.stop()
        sys.exit(1)
    demo = ensure_demo_tenant()
    from relay.adapters.metrics import reset_folder

    reset_folder()  # this host's web and workers start afresh: so do their counters
    base = f"http://{host}:{port}"
    os.environ.setdefault("RELAY_PUBLIC_URL", base)
    os.environ.setdefault("RELAY_SIGNUP", "open")  # development: anyone may try the cabinet
    children = [
        subprocess.Popen([sys.executable, "-m", "relay.cli", "worker"]) for _ in range(n_workers)
    ]
    children.append(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                "2",
                "-k",
                "gthread",
                "--threads",
                str(WEB_THREADS),
                "-b",
                f"{host}:{port}",
                "--graceful-timeout",
                "10",
                "--logger-class",
                "relay.access_log.MaskedAccessLogger",
                "relay.wsgi:app",
            ]
        )
    )
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    listening = _wait_until_listening(host, port, children, stopping)
    if stopping.is_set() or not listening:
        if not stopping.is_set():
            click.echo(f"error: the web server did not start on {host}:{port}", err=True)
        _stop_children(children, embedded)
        click.echo("relay stopped")
        sys.exit(0 if stopping.is_set() else 1)
    click.echo(
        f"relay is up at {base}  (database: {_safe_url(cfg['DATABASE_URL'])}, "
        f"redis: {os.environ['RELAY_REDIS_URL']}{' (embedded)' if embedded else ''})"
    )
    from relay.config import VAR_DIR

    click.echo(f"cabinet: {base}/cabinet/  (sign-up: {os.environ['RELAY_SIGNUP']})")
    if demo:
        click.echo(f"demo tenant {demo['name']!r} created; its API key (shown once): {demo['key']}")
        click.echo(
            f"cabinet sign-in for the demo owner: phone {demo['phone']}, password "
            f"{demo['password']}  (kept in {VAR_DIR / 'demo_owner'})"
        )
        demo_url = "" if base == "http://127.0.0.1:8000" else f" --url {base}"
        click.echo(f"try: curl -s {base}/healthz ; relay demo{demo_url}")
    code = 0
    while not stopping.is_set():
        if any(c.poll() is not None for c in children):
            click.echo("a relay process exited; stopping the others", err=True)
            code = 1
            break
        stopping.wait(0.5)
    _stop_children(children, embedded)
    click.echo("relay stopped")
    sys.exit(code)


def _stop_children(children: list[subprocess.Popen[bytes]], embedded: EmbeddedRedis | None) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    if embedded:
        embedded.stop()


def _port_problem(host: str, port: int) -> str | None:
    """Why the web server could not listen on host:port (checked by binding), or None."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot listen on {host}:{port}: {exc.strerror}"
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        # as gunicorn does: a port left in TIME_WAIT by a previous run is free
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use"
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None


def _wait_until_listening(
    host: str,
    port: int,
    children: list[subprocess.Popen[bytes]],
    stopping: threading.Event,
    timeout: float = 60.0,
) -> bool:
    """Wait until the web server accepts connections; False if a child died first (or it
    never did, or a stop was asked for meanwhile)."""
    import socket

    target = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stopping.is_set():
        if any(c.poll() is not None for c in children):
            return False
        try:
            with socket.create_connection((target, port), timeout=0.5):
                return True
        except OSError:
            stopping.wait(0.2)
    return False


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout (the default).")
def sweep(as_json: bool) -> None:
    """Run one sweep now: re-enqueue forgotten due messages, mark stale sends unknown."""
    from relay.cli_util import fail
    from relay.delivery.sweeper import sweep as run
    from relay.wiring import get_runtime

    require_database(as_json)
    if not os.environ.get("RELAY_REDIS_URL"):
        # the embedded Redis of a `relay up` running from the same RELAY_HOME, if any
        from redis import Redis

        from relay.adapters.embedded_redis import EmbeddedRedis
        from relay.config import VAR_DIR

        embedded = EmbeddedRedis(VAR_DIR / "redis")
        try:
            Redis.from_url(embedded.url, socket_connect_timeout=2).ping()
        except Exception:
            fail(
                RuntimeError(
                    "no Redis to sweep into: start the relay with `relay up` (from this "
                    "RELAY_HOME) or set RELAY_REDIS_URL"
                ),
                as_json,
                1,
            )
        os.environ["RELAY_REDIS_URL"] = embedded.url
    echo_json(run(get_runtime(), grace_seconds=0).__dict__)


# register the operator commands on `main`
from relay import cli_admin, cli_bench, cli_compliance, cli_messages, cli_people, cli_spool  # noqa: E402
from relay.demo import demo  # noqa: E402

main.add_command(demo)
cli_admin.register(main)
cli_people.register(main)
cli_compliance.register(main)
cli_spool.register(main)
cli_messages.register(main)
cli_bench.register(main)

if __name__ == "__main__":
    main()
