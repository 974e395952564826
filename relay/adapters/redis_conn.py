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

redis-py 8 also made `PubSubWorkerThread.stop()` wait for the thread, which sits in
`get_message(timeout=60)`; RQ unsubscribes before it stops the thread, so every worker stop took
up to 60 s. `RelayWorker.unsubscribe` stops the thread first, then unsubscribes, which wakes it.
"""

from __future__ import annotations

import inspect

from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker

# Commands the web and the queueing side send answer in milliseconds; seconds mean trouble.
COMMAND_TIMEOUT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 5.0


def redis_client(url: str) -> Redis:
    """A client for non-blocking commands, with explicit connect and read timeouts."""
    return Redis.from_url(
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
    return Redis.from_url(
        url,
        socket_timeout=None,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        health_check_interval=30,
    )


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
