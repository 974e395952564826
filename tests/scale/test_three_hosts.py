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

from tests.scale.cluster import Hosts, gate, record, services

MESSAGES = int(os.environ.get("RELAY_TEST_SCALE_MESSAGES", "10000"))
RATE_PER_SECOND = 200
WORKERS_PER_HOST = 2


def test_three_hosts_send_every_message_once_within_the_gateway_rate(tmp_path) -> None:
    gate("root", "ip", "redis-server", "postgres", "runuser")
    with Hosts(3) as hosts, services(hosts.gateway, tmp_path) as run:
        redis = run.redis()
        redis_url = f"redis://{hosts.gateway}:{redis.port}/0"
        started = time.monotonic()
        ids = run.seed(redis_url, f"{RATE_PER_SECOND}/second", MESSAGES)
        seeded_s = time.monotonic() - started
        for ns in hosts.names():
            run.start_workers(redis_url, WORKERS_PER_HOST, ns, hosts.exec_prefix(ns))
        # at 200/s, 10,000 messages need 50 s; allow for a slow, shared machine
        figures, took = run.settle(ids, timeout=60 + MESSAGES / 40)
        figures.update(
            hosts=len(hosts.names()),
            workers=len(run.workers),
            rate_limit_per_second=RATE_PER_SECOND,
            seconds_to_seed=round(seeded_s, 1),
            seconds_to_send=round(took, 1),
            sends_per_second=round(run.counter.total() / took, 1) if took else None,
        )
        record("three_hosts", figures)
        run.assert_sent_exactly_once(figures)
        # counted where it matters, at the gateway: a send holds its slot from its grant until
        # a second after the gateway answered (docs/architecture.md, "Many hosts")
        assert figures["max_sends_in_any_second"] <= RATE_PER_SECOND
