"""A SimpleWorker that drains the given queues and exits (the benchmark's worker process)."""

from __future__ import annotations

import os
import sys

from rq import Queue

from relay.adapters.redis_conn import RelayWorker, worker_client

if __name__ == "__main__":
    redis = worker_client(os.environ["BENCH_REDIS_URL"])
    queues = [Queue(name, connection=redis) for name in sys.argv[1:]]
    RelayWorker(queues, connection=redis).work(burst=True, logging_level="ERROR")
