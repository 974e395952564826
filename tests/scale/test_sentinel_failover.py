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

from tests.scale.cluster import (
    PgCluster,
    RedisServer,
    SendCounter,
    free_port,
    gate,
    outcome,
    processes,
    record,
    relay_env,
    seed,
    start_worker,
    wait_settled,
)

MESSAGES = int(os.environ.get("RELAY_TEST_SENTINEL_MESSAGES", "3000"))
RATE_PER_SECOND = 150
HOST = "127.0.0.1"


def test_a_redis_failover_loses_and_doubles_nothing(tmp_path) -> None:
    gate("redis-server", "postgres", "runuser")
    servers: list[RedisServer] = []
    pg = counter = None
    try:
        pg = PgCluster(HOST, free_port()).start()
        master = RedisServer(HOST, free_port()).start()
        replica = RedisServer(HOST, free_port(), "--replicaof", HOST, str(master.port)).start()
        servers += [master, replica]
        for _ in range(3):
            servers.append(
                RedisServer(
                    HOST,
                    free_port(),
                    f"sentinel monitor mymaster {HOST} {master.port} 2",
                    "sentinel down-after-milliseconds mymaster 1000",
                    "sentinel failover-timeout mymaster 10000",
                    "sentinel parallel-syncs mymaster 1",
                    sentinel=True,
                ).start()
            )
        sentinels = ",".join(f"{HOST}:{s.port}" for s in servers[2:])
        url = f"redis+sentinel://{sentinels}/mymaster/0"
        _wait_replica_known(servers[2].port)
        counter = SendCounter(HOST).start()
        ids = seed(pg.url, url, counter, f"{RATE_PER_SECOND}/second", MESSAGES)
        with processes() as procs:
            env = relay_env(pg.url, url, tmp_path)
            for k in range(2):
                procs.append(start_worker(env, tmp_path / f"worker{k}.log"))
            deadline = time.monotonic() + 120
            while counter.total() < MESSAGES // 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            sent_before_kill = counter.total()
            killed_at = time.monotonic()
            master.kill()
            promoted = _wait_promoted(servers[2].port, replica.port, timeout=30)
            failover_s = time.monotonic() - killed_at
            took = wait_settled(pg.url, counter, MESSAGES, timeout=240)
            exited = [p.returncode for p in procs if p.poll() is not None]
        figures = outcome(ids, counter, pg.url)
        figures.update(
            sent_before_kill=sent_before_kill,
            seconds_to_promote_replica=round(failover_s, 1),
            seconds_to_settle_after_kill=round(took + failover_s, 1),
            max_sends_in_any_second=counter.max_in_window(1.0),
            rate_limit_per_second=RATE_PER_SECOND,
        )
        record("sentinel_failover", figures)
        assert promoted, "the sentinels did not promote the replica"
        assert exited == [], f"workers died: {exited}; logs in {tmp_path}"
        assert (figures["lost"], figures["duplicated"], figures["unexpected_ids"]) == (0, 0, 0)
        assert figures["statuses"] == {"sent": MESSAGES}
    finally:
        if counter is not None:
            counter.stop()
        for server in servers:
            server.stop()
        if pg is not None:
            pg.stop()


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
