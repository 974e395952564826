"""The intake spool on the HTTP side: spool what the database could not take, replay it.

See relay/intake/spool.py and docs/architecture.md, 'The intake spool'. After a request to
`POST /v1/events` or a connector's webhook has failed with a 5xx, and only if the database is
then found unreachable:

- a request its route admitted (the key or the webhook's secret checked) is written to the
  journal and answered 202 `{"status": "accepted", "spooled": true, …}`;
- anything else, or any request when the journal cannot be written (size bound, disk), is 503
  `temporarily_unavailable` with `Retry-After`.

The replayer sends spooled requests through this same app (the same routes, checks and
idempotency) with the WSGI environ key `REPLAY_ENVIRON_KEY`, which no HTTP client can set: a
replay is never spooled again and not rate limited.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from flask import Flask, Response, current_app, jsonify, request

from relay.adapters.spool_journal import JournalFull
from relay.api.http import error_response
from relay.intake.spool import (
    RETRY_AFTER_SECONDS,
    Replayer,
    Spool,
    SpooledRequest,
    admitted,
    reset_admission,
    spool_from_config,
)
from relay.platforms.installations import DbInstallationStore
from relay.runtime import Runtime
from relay.storage.db import ping
from relay.tenancy.tenants import remember_keys, trust_keys_through_outages

log = logging.getLogger("relay.spool")

REPLAY_ENVIRON_KEY = "relay.spool.replay"
EVENTS_PATH = "/v1/events"
WEBHOOK_PREFIX = "/connectors/"
EXTENSION = "relay.spool"


def spoolable(path: str, method: str) -> bool:
    """Whether a request may wait in the spool: events and connectors' webhooks."""
    return method == "POST" and (path == EVENTS_PATH or path.startswith(WEBHOOK_PREFIX))


def database_up(rt: Runtime) -> bool:
    """One round trip to the database."""
    try:
        ping(rt.engine)
    except Exception:  # any driver error means "down" here
        return False
    return True


def app_spool(app: Flask) -> Spool:
    """The spool installed on `app`."""
    spool = app.extensions[EXTENSION]
    if not isinstance(spool, Spool):
        raise TypeError(f"app.extensions[{EXTENSION!r}] is not a Spool, got {spool!r}")
    return spool


def replay_through(app: Flask) -> Any:
    """A deliver function for `Spool.replay`: the request again, through `app`."""

    def deliver(req: SpooledRequest) -> int:
        client = app.test_client()
        response = client.open(
            req.path,
            method=req.method,
            query_string=req.query,
            headers=req.headers,
            data=req.body,
            environ_base={"REMOTE_ADDR": req.remote_addr or "127.0.0.1", REPLAY_ENVIRON_KEY: True},
        )
        return response.status_code

    return deliver


def _unavailable(message: str) -> Response:
    response = error_response("temporarily_unavailable", message, 503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _accepted() -> Response:
    body: dict[str, Any] = {"status": "accepted", "spooled": True}
    if request.path == EVENTS_PATH:
        try:
            sent = json.loads(request.get_data(cache=True))
        except ValueError:
            sent = None
        if isinstance(sent, dict) and isinstance(sent.get("event_id"), str):
            body["event_id"] = sent["event_id"]
    response = jsonify(body)
    response.status_code = 202
    return response


def install(app: Flask, rt: Runtime) -> Spool:
    """Spool admitted requests that failed with the database down; replay in the background."""
    spool = spool_from_config(rt.config, rt.secrets)
    app.extensions[EXTENSION] = spool
    trust_keys_through_outages(float(rt.config["SPOOL_TRUST_SECONDS"]))
    replayer = Replayer(
        spool,
        replay_through(app),
        lambda: database_up(rt),
        float(rt.config["SPOOL_REPLAY_SECONDS"]),
    )
    if spool.has_pending():  # a journal left by an earlier process: replay it when possible
        replayer.ensure_running()

    @app.before_request
    def _fresh_admission() -> None:
        reset_admission()

    @app.after_request
    def _spool_on_outage(response: Response) -> Response:
        if response.status_code < 500 or not spoolable(request.path, request.method):
            return response
        if request.environ.get(REPLAY_ENVIRON_KEY):
            return response  # the replayer keeps the record and tries again later
        if database_up(rt):
            if response.status_code == 503:
                response.headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
            return response
        if not admitted():
            return _unavailable(
                "the database is unavailable and this request cannot be checked without it"
            )
        captured = SpooledRequest.capture(
            request.method,
            request.path,
            request.query_string.decode("latin-1"),
            list(request.headers.items()),
            request.get_data(cache=True),
            request.remote_addr,
        )
        try:
            spool.write(captured)
        except JournalFull:
            return _unavailable("the database is unavailable and the intake spool is full")
        replayer.ensure_running()
        return _accepted()

    return spool


def keep_outage_trust_warm(rt: Runtime, every: float | None = None) -> threading.Thread:
    """In a serving process (relay/wsgi.py): confirm every key and read every installation at
    start and again every quarter of the trust period, so that during an outage this process
    can spool the requests of any tenant or store — not only of those it happened to serve
    (with several web processes, a store's webhooks land on any of them)."""
    period = every if every is not None else float(rt.config["SPOOL_TRUST_SECONDS"]) / 4

    def warm() -> None:
        while True:
            try:
                with rt.session() as session:
                    remember_keys(session)
                DbInstallationStore(rt).remember_all()
            except Exception:  # the database away: what was read before still counts
                log.warning("outage trust not refreshed: the database did not answer")
            time.sleep(max(1.0, period))

    thread = threading.Thread(target=warm, name="outage-trust", daemon=True)
    thread.start()
    return thread


def spool_health() -> str:
    """ "ok", "pending" (requests wait to be replayed) or "full" (intake is refused)."""
    spool = app_spool(current_app)
    if spool.is_full():
        return "full"
    return "pending" if spool.has_pending() else "ok"
