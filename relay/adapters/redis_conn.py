"""Redis clients with explicit socket timeouts, and the RQ worker that reads queues with them.

Why this module exists: redis-py 8 gives every connection a default 5 s socket timeout (redis-py
7 had none). RQ's worker waits for jobs with a blocking `BLPOP` of several minutes; RQ raises the
timeout of the connection *settings* before it starts, but a connection already opened and
pooled keeps the old 5 s. That connection's `BLPOP` then times out, RQ takes it for a lost
Redis and backs off 1, 2, 4 … 60 s — an idle worker picks up a new message up to a minute late.
So the relay never relies on a library default:

- `redis_client()` is for commands that answer at once (web requests, enqueues, throttles): a
  short timeout, so a hung Redis fails a request instead of hanging it.
- `worker_client()` is a fresh client for an RQ worker, with no socket timeout of its own: RQ
  sets one just above its blocking-read time before the first connection is opened.

`RELAY_REDIS_URL` may name a Redis Sentinel set instead of one server (`SentinelUrl`): both
clients then ask the sentinels for the current master and ask again when a connection to it
fails, so a failover costs a few retried commands, not a restart (docs/architecture.md, "Many
hosts").

redis-py 8 also made `PubSubWorkerThread.stop()` wait for the thread, which sits in
`get_message(timeout=60)`; RQ unsubscribes before it stops the thread, so every worker stop took
up to 60 s. `RelayWorker.unsubscribe` stops the thread first, then unsubscribes, which wakes it.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from limits.storage import RedisStorage
from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, RedisError, TimeoutError
from redis.retry import Retry
from redis.sentinel import Sentinel
from rq import SimpleWorker

# Commands the web and the queueing side send answer in milliseconds; seconds mean trouble.
COMMAND_TIMEOUT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 5.0
# Through Sentinel, a command that finds the master gone is retried (asking the sentinels for
# the master again each time) for about 20 s: a failover after a 1–5 s `down-after-milliseconds`
# is then invisible to the caller, instead of a failed request or a worker that quits.
FAILOVER_RETRIES = 14

log = logging.getLogger("relay.redis")


SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")


@dataclass(frozen=True)
class SentinelUrl:
    """`redis+sentinel://[[user]:password@]host:port[,host:port…]/service[/db]`.

    The sentinels to ask, the name of the master set they watch (`sentinel monitor <service>`)
    and the database number. A password (and user) is sent to the sentinels and the data
    nodes alike; `?sentinel_password=…` gives the sentinels one of their own. `rediss+sentinel`
    speaks TLS to the data nodes.
    """

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None
    ssl: bool = False

    @classmethod
    def parse(cls, url: str) -> SentinelUrl | None:
        """The Sentinel set named by `url`, or None when `url` names one server."""
        parts = urlsplit(url)
        if parts.scheme not in SENTINEL_SCHEMES:
            return None
        userinfo, _, hosts = parts.netloc.rpartition("@")
        user, _, password = userinfo.partition(":")
        sentinels = tuple(_host_port(h, url) for h in hosts.split(",") if h.strip())
        path = [p for p in parts.path.split("/") if p]
        if not sentinels or not path or len(path) > 2:
            raise ValueError(
                "a Sentinel URL looks like redis+sentinel://host:26379,host2:26379/mymaster/0, "
                f"got {_masked(url)!r}"
            )
        if len(path) == 2 and not path[1].isdigit():
            raise ValueError(f"the database in a Sentinel URL is a number, got {path[1]!r}")
        query = parse_qs(parts.query)
        return cls(
            sentinels=sentinels,
            service=unquote(path[0]),
            db=int(path[1]) if len(path) == 2 else 0,
            username=unquote(user) or None,
            password=unquote(password) or None,
            sentinel_password=next(iter(query.get("sentinel_password", [])), None),
            ssl=parts.scheme.startswith("rediss"),
        )

    def master(self, **options: Any) -> Redis:
        """A client on whichever node the sentinels call master now (and after a failover)."""
        sentinel_auth: dict[str, Any] = {"username": self.username, "password": self.password}
        if self.sentinel_password:
            sentinel_auth = {"password": self.sentinel_password}
        sentinel = Sentinel(
            list(self.sentinels),
            sentinel_kwargs={
                **sentinel_auth,
                "socket_timeout": COMMAND_TIMEOUT_SECONDS,
                "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
            },
        )
        retry = Retry(
            ExponentialBackoff(cap=2.0, base=0.1),
            FAILOVER_RETRIES,
            supported_errors=(ConnectionError, TimeoutError),
        )
        client: Redis = sentinel.master_for(
            self.service,
            retry=retry,
            db=self.db,
            ssl=self.ssl,
            username=self.username,
            password=self.password,
            **options,
        )
        return client


def _host_port(item: str, url: str) -> tuple[str, int]:
    host, _, port = item.strip().rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"a sentinel is host:port, got {item!r} in {_masked(url)!r}")
    return host.strip("[]"), int(port)


def _masked(url: str) -> str:
    """The URL without its password, for error messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


def _client(url: str, **options: Any) -> Redis:
    sentinel = SentinelUrl.parse(url)
    if sentinel is not None:
        return sentinel.master(**options)
    return Redis.from_url(url, **options)


def redis_client(url: str) -> Redis:
    """A client for non-blocking commands, with explicit connect and read timeouts."""
    return _client(
        url,
        socket_timeout=COMMAND_TIMEOUT_SECONDS,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        health_check_interval=30,
    )


def worker_client(url: str) -> Redis:
    """A fresh client for an RQ worker: RQ sets the read timeout above its blocking dequeue.

    It must not be used before the worker is built, or a pooled connection keeps a shorter
    timeout than RQ's `BLPOP` needs.
    """
    return _client(
        url,
        socket_timeout=None,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        health_check_interval=30,
    )


def limits_storage(client: Redis) -> RedisStorage:
    """Storage for the `limits` library on `client`'s own connection pool: one Redis
    configuration (a single server or a Sentinel set) for queues, leases and rate limits."""
    return RedisStorage("redis://", connection_pool=client.connection_pool)


class RelayWorker(SimpleWorker):
    """RQ's in-process worker, stopping its command listener at once on every redis-py."""

    def unsubscribe(self) -> None:
        thread, pubsub = self.pubsub_thread, self.pubsub
        if thread is None or pubsub is None:
            return
        # Clear the thread's run flag without waiting (redis-py 8 waits unless told not to);
        # the UNSUBSCRIBE reply then wakes its get_message() and the loop ends.
        if "timeout" in inspect.signature(thread.stop).parameters:
            thread.stop(timeout=0)
        else:
            thread.stop()
        try:
            pubsub.unsubscribe()
        except RedisError:  # the thread may have closed the connection already
            pass
        thread.join(timeout=2)
        pubsub.close()


def _stop_asked(worker: RelayWorker) -> bool:
    """SIGTERM / SIGINT reached this worker. RQ records the time of any such request, but sets
    its `_stop_requested` flag only when the signal comes in the middle of a job (an idle
    worker leaves `work()` at once instead), so both are read."""
    return (
        bool(worker._stop_requested)
        or getattr(worker, "_shutdown_requested_date", None) is not None
    )


def work_through_failovers(
    build: Callable[[], RelayWorker], *, burst: bool, with_scheduler: bool, pause: float = 1.0
) -> None:
    """Run RQ workers one after another until one is told to stop (SIGTERM) or, in burst mode,
    finds the queues empty.

    RQ's worker quits when Redis fails outside a job (a heartbeat or its own bookkeeping during
    a failover longer than the retries above): the process would then sit idle or exit while
    the queues fill. A new worker on the same connection settings finds the new master.
    """
    while True:
        worker = build()
        try:
            worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="WARNING")
        except RedisError as exc:
            log.warning(
                "worker lost Redis; starting a new one", extra={"error": type(exc).__name__}
            )
        else:
            if burst:
                return
        if _stop_asked(worker):
            return
        time.sleep(pause)
        if _stop_asked(worker):
            return
