"""Three hosts, one PostgreSQL, one Redis: every message sent exactly once, the gateway's rate
held across hosts.

Each "host" is a Linux network namespace joined to the root namespace by a veth pair on a
bridge; PostgreSQL, Redis and the gateway stand-in listen on the bridge's address, so the
workers of each host reach them over the network, as on separate machines. See
docs/architecture.md, "Many hosts".
"""

from __future__ import annotations

import os
import time

import pytest

from tests.scale.cluster import (
    Hosts,
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

MESSAGES = int(os.environ.get("RELAY_TEST_SCALE_MESSAGES", "10000"))
RATE_PER_SECOND = 200
WORKERS_PER_HOST = 2


def test_three_hosts_send_every_message_once_within_the_gateway_rate(tmp_path) -> None:
    gate("root", "ip", "redis-server", "postgres", "runuser")
    hosts = Hosts(3)
    pg = redis = counter = None
    try:
        hosts.up()
        pg = PgCluster(hosts.gateway, free_port()).start()
        redis = RedisServer(hosts.gateway, free_port()).start()
        counter = SendCounter(hosts.gateway).start()
        redis_url = f"redis://{hosts.gateway}:{redis.port}/0"
        started = time.monotonic()
        ids = seed(pg.url, redis_url, counter, f"{RATE_PER_SECOND}/second", MESSAGES)
        seeded_s = time.monotonic() - started
        with processes() as procs:
            for ns in hosts.names():
                env = relay_env(pg.url, redis_url, tmp_path / ns)
                for k in range(WORKERS_PER_HOST):
                    log = tmp_path / f"{ns}-worker{k}.log"
                    procs.append(start_worker(env, log, hosts.exec_prefix(ns)))
            # at 200/s, 10,000 messages need 50 s; allow for a slow, shared machine
            took = wait_settled(pg.url, counter, MESSAGES, timeout=60 + MESSAGES / 40)
            exited = [p.returncode for p in procs if p.poll() is not None]
        figures = outcome(ids, counter, pg.url)
        figures.update(
            hosts=len(hosts.names()),
            workers=len(hosts.names()) * WORKERS_PER_HOST,
            rate_limit_per_second=RATE_PER_SECOND,
            max_sends_in_any_second=counter.max_in_window(1.0),
            seconds_to_seed=round(seeded_s, 1),
            seconds_to_send=round(took, 1),
            sends_per_second=round(counter.total() / took, 1) if took else None,
        )
        record("three_hosts", figures)
        assert exited == [], f"workers died: {exited}; logs in {tmp_path}"
        assert (figures["lost"], figures["duplicated"], figures["unexpected_ids"]) == (0, 0, 0)
        assert figures["sent_once"] == MESSAGES
        assert figures["statuses"] == {"sent": MESSAGES}
        if figures["max_sends_in_any_second"] > RATE_PER_SECOND:
            # the known limit (docs/architecture.md, "Many hosts"): the relay counts grants from
            # an exact moving window, but a granted batch leaves over its own send time, so the
            # gateway's worst second holds some grants of the second before
            pytest.xfail(
                f"{figures['max_sends_in_any_second']} sends in the gateway's worst second for "
                f"{RATE_PER_SECOND}/second granted: grants are counted, not sends"
            )
    finally:
        if counter is not None:
            counter.stop()
        if redis is not None:
            redis.stop()
        if pg is not None:
            pg.stop()
        hosts.down()
