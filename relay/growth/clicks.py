"""Clicks: recorded on Redis by the redirect, persisted in batches by the worker.

The redirect never waits on the database for a click. One script call on Redis reads the
link (kept there for its first days, `relay.growth.links.cache_links`), counts the click at
most once per link, client and minute (a flood of requests is one click a minute for
attribution; the rate limiter refuses the rest) and appends it to a list. Only a link no
longer on Redis costs a database query, after which it is put back. The worker's periodic
loop moves the list into `clicks` in batches (`persist_clicks`); the table's unique key makes a
batch written twice harmless, and clicks on links erased meanwhile are dropped. The client is
a salted hash of its address, and the user agent only a coarse family: neither the address
nor the agent string is kept.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from relay.growth.links import HOT_PREFIX, HOT_TTL, Target, hot_value
from relay.storage.models import Click, Link

QUEUE_KEY = "relay:clicks"
BATCH = 1000

# KEYS: the link, the (link, client, minute) mark, the queue; ARGV: the click.
# Returns the link's value, or nothing when Redis does not hold the link.
_FOLLOW = """
local link = redis.call('GET', KEYS[1])
if not link then return false end
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', 120) then
  redis.call('RPUSH', KEYS[3], ARGV[1] .. '\\n' .. link)
end
return link
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
    """Follows links on Redis, queueing the click in the same round trip."""

    redis: Redis

    def __post_init__(self) -> None:
        self._script = self.redis.register_script(_FOLLOW)

    def follow(self, token: str, client: str, agent: str, now: datetime) -> str | None:
        """The link's target if Redis holds it (the click queued unless counted this minute);
        None when the link must be looked up in the database."""
        keys, click = self._click(token, client, agent, now)
        found = self._script(keys=keys, args=[click])
        if found is None:
            return None
        return str(json.loads(found)["target"])

    def remember_and_follow(
        self,
        token: str,
        target: Target,
        expires_at: datetime,
        client: str,
        agent: str,
        now: datetime,
    ) -> None:
        """Put a link read from the database back on Redis and queue its click, in one
        pipelined round trip."""
        ttl = int(min(HOT_TTL, expires_at - now).total_seconds())
        value = hot_value(target.tenant_id, target.message_id, target.campaign_id,
                          target.target)  # fmt: skip
        keys, click = self._click(token, client, agent, now)
        with self.redis.pipeline(transaction=False) as pipe:
            # a link expiring within a second is kept that second; its click still counts
            pipe.set(keys[0], value, ex=max(ttl, 1))
            self._script(keys=keys, args=[click], client=pipe)
            pipe.execute()

    @staticmethod
    def _click(token: str, client: str, agent: str, now: datetime) -> tuple[list[str], str]:
        minute = int(now.timestamp() // 60)
        at = now.timestamp()
        click = json.dumps({"t": token, "k": client, "u": minute, "a": agent, "at": at})
        mark = f"relay:click:{token}:{client}:{minute}"
        return [HOT_PREFIX + token, mark, QUEUE_KEY], click


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


def _row(item: bytes | str) -> dict[str, Any] | None:
    try:
        text = item.decode() if isinstance(item, bytes) else item
        click_part, link_part = text.split("\n", 1)
        c, link = json.loads(click_part), json.loads(link_part)
        return {
            "tenant_id": str(link["n"]),
            "token": str(c["t"]),
            "message_id": str(link["m"]),
            "campaign_id": link["c"],
            "client": str(c["k"]),
            "minute": int(c["u"]),
            "agent": str(c["a"]),
            "at": datetime.fromtimestamp(float(c["at"]), UTC),
        }
    except (ValueError, KeyError, TypeError):
        return None  # not ours: dropped rather than blocking the queue


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
        rows = [r for r in map(_row, raw) if r is not None]
        if rows:
            live = set(
                session.scalars(
                    select(Link.token).where(Link.token.in_({r["token"] for r in rows}))
                )
            )
            rows = [r for r in rows if r["token"] in live]  # an erased link's clicks go too
        if rows:
            _insert_ignoring_duplicates(session, rows)
        session.commit()
        redis.ltrim(QUEUE_KEY, len(raw), -1)
        total += len(raw)
        if len(raw) < batch:
            return total
