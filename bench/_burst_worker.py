"""A SimpleWorker that drains the given queues and exits (the benchmark's worker process)."""

from __future__ import annotations

import os
import sys

from redis import Redis
from rq import Queue, SimpleWorker

if __name__ == "__main__":
    redis = Redis.from_url(os.environ["BENCH_REDIS_URL"])
    queues = [Queue(name, connection=redis) for name in sys.argv[1:]]
    SimpleWorker(queues, connection=redis).work(burst=True, logging_level="ERROR")
