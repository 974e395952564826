"""Redis through Sentinel: the master is killed while workers send; a replica takes over and
nothing is lost or sent twice.

A master, a replica and three sentinels of the test's own; two `relay worker` processes with
`RELAY_REDIS_URL=redis+sentinel://…/mymaster/0`; the master is killed (SIGKILL) once a third
of the messages reached the gateway stand-in. Jobs the dead master held but had not passed to
the replica are found again by the sweeper, which re-enqueues what the database says is due
(docs/architecture.md, "Many hosts").
"""

from __future__ import annotations

import os
import time

from redis import Redis

from tests.scale.cluster import gate, record, services

MESSAGES = int(os.environ.get("RELAY_TEST_SENTINEL_MESSAGES", "3000"))
RATE_PER_SECOND = 150
HOST = "127.0.0.1"


def test_a_redis_failover_loses_and_doubles_nothing(tmp_path) -> None:
    gate("redis-server", "postgres", "runuser")
    with services(HOST, tmp_path) as run:
        master = run.redis()
        replica = run.redis("--replicaof", HOST, str(master.port))
        sentinels = [
            run.redis(
                f"sentinel monitor mymaster {HOST} {master.port} 2",
                "sentinel down-after-milliseconds mymaster 1000",
                "sentinel failover-timeout mymaster 10000",
                "sentinel parallel-syncs mymaster 1",
                sentinel=True,
            )
            for _ in range(3)
        ]
        url = f"redis+sentinel://{','.join(f'{HOST}:{s.port}' for s in sentinels)}/mymaster/0"
        _wait_replica_known(sentinels[0].port)
        ids = run.seed(url, f"{RATE_PER_SECOND}/second", MESSAGES)
        run.start_workers(url, 2)
        deadline = time.monotonic() + 120
        while run.counter.total() < MESSAGES // 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        sent_before_kill = run.counter.total()
        killed_at = time.monotonic()
        master.kill()
        promoted = _wait_promoted(sentinels[0].port, replica.port, timeout=30)
        failover_s = time.monotonic() - killed_at
        figures, took = run.settle(ids, timeout=240)
        figures.update(
            sent_before_kill=sent_before_kill,
            seconds_to_promote_replica=round(failover_s, 1),
            seconds_to_settle_after_kill=round(took + failover_s, 1),
            rate_limit_per_second=RATE_PER_SECOND,
        )
        record("sentinel_failover", figures)
        assert promoted, "the sentinels did not promote the replica"
        run.assert_sent_exactly_once(figures)


def _wait_replica_known(sentinel_port: int, timeout: float = 20) -> None:
    """The sentinels learn the replica from the master; a failover needs them to know it."""
    sentinel = Redis(HOST, sentinel_port, decode_responses=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sentinel.execute_command("SENTINEL", "REPLICAS", "mymaster"):
            return
        time.sleep(0.2)
    raise AssertionError("the sentinels never saw the replica")


def _wait_promoted(sentinel_port: int, replica_port: int, timeout: float) -> bool:
    sentinel = Redis(HOST, sentinel_port, decode_responses=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        host, port = sentinel.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")
        if int(port) == replica_port:
            return True
        time.sleep(0.1)
    return False
