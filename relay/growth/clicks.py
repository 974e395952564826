"""Clicks: recorded on Redis by the redirect, persisted in batches by the worker.

The redirect never waits on the database for a click: one script call on Redis counts the
click at most once per link, client and minute (a flood of requests is one click a minute for
attribution; the rate limiter refuses the rest) and appends it to a list. The worker's
periodic loop moves the list into `clicks` in batches (`persist_clicks`); the table's unique
key makes a batch that is written twice harmless. The client is a salted hash of its address,
and the user agent only a coarse family: neither the address nor the agent string is kept.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from sqlalchemy import insert
from sqlalchemy.orm import Session

from relay.growth.links import Target
from relay.storage.models import Click

QUEUE_KEY = "relay:clicks"
BATCH = 1000

# SET NX marks (link, client, minute); only the first request of the minute is queued
_RECORD = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', 120) then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
"""


def coarse_agent(user_agent: str | None) -> str:
    """The device family of a user agent, nothing more."""
    ua = (user_agent or "").lower()
    if "android" in ua:
        return "android"
    if "iphone" in ua or "ipad" in ua or "ios" in ua:
        return "ios"
    if "windows" in ua or "macintosh" in ua or "linux" in ua:
        return "desktop"
    return "other"


def client_key(secret: str, address: str | None) -> str:
    """A salted hash standing for the client's address (16 hex characters)."""
    return hashlib.sha256(f"{secret}|{address or '?'}".encode()).hexdigest()[:16]


@dataclass
class ClickRecorder:
    """Queues clicks on Redis with one round trip each."""

    redis: Redis

    def __post_init__(self) -> None:
        self._script = self.redis.register_script(_RECORD)

    def record(self, token: str, target: Target, client: str, agent: str, now: datetime) -> bool:
        """Queue the click unless this client clicked this link this minute; True if queued."""
        minute = int(now.timestamp() // 60)
        item = json.dumps(
            {
                "t": token,
                "n": target.tenant_id,
                "m": target.message_id,
                "c": target.campaign_id,
                "k": client,
                "u": minute,
                "a": agent,
                "at": now.timestamp(),
            }
        )
        mark = f"relay:click:{token}:{client}:{minute}"
        return bool(self._script(keys=[mark, QUEUE_KEY], args=[item]))


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(Click).on_conflict_do_nothing(), rows)
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(Click).on_conflict_do_nothing(), rows)
    else:  # pragma: no cover - the relay runs on the two above
        session.execute(insert(Click), rows)


def persist_clicks(redis: Redis, session: Session, batch: int = BATCH) -> int:
    """Move queued clicks into the database, a batch at a time; returns how many were read.

    The batch is read, written and committed before it is trimmed from the list, so a worker
    that dies half-way leaves it to be written again (the unique key drops the repeats).
    """
    total = 0
    while True:
        raw = redis.lrange(QUEUE_KEY, 0, batch - 1)
        if not raw:
            return total
        rows = []
        for item in raw:
            try:
                c = json.loads(item)
                rows.append(
                    {
                        "tenant_id": str(c["n"]),
                        "token": str(c["t"]),
                        "message_id": str(c["m"]),
                        "campaign_id": c["c"],
                        "client": str(c["k"]),
                        "minute": int(c["u"]),
                        "agent": str(c["a"]),
                        "at": datetime.fromtimestamp(float(c["at"]), UTC),
                    }
                )
            except (ValueError, KeyError, TypeError):
                continue  # not ours: dropped rather than blocking the queue
        if rows:
            _insert_ignoring_duplicates(session, rows)
        session.commit()
        redis.ltrim(QUEUE_KEY, len(raw), -1)
        total += len(raw)
        if len(raw) < batch:
            return total
