"""Short links: the links of a message's text replaced by tokens on the relay, per recipient.

A token is 12 characters of base64url from `secrets` (72 bits): unguessable, and short enough
that the link's length is counted in the message's segments before it is sent (the planner
rewrites the text before it decides and prices it). Only http(s) targets are tracked; a
template whose text names another scheme is refused when it is saved (`link_problems`).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from redis import Redis
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from relay.storage.models import Link

# a link is a scheme and what follows up to white space; trailing punctuation that ends a
# sentence is not part of it
URL_RE = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}://[^\s<>\"']+")
_TRAILING = ".,;:!?)»"
SCHEMES = ("http", "https")
LINK_TTL = timedelta(days=90)
# a link is also kept on Redis this long after it is made (most clicks come in the first
# days), so a redirect usually costs one Redis call and no database query
HOT_TTL = timedelta(days=7)
HOT_PREFIX = "relay:link:"
TOKEN_BYTES = 9
PATH = "/l/"


def _split(found: str) -> tuple[str, str]:
    core = found.rstrip(_TRAILING)
    return core, found[len(core) :]


def link_problems(source: str) -> list[str]:
    """Why the links of a template text cannot be tracked: a scheme other than http(s), or an
    http(s) link without a host. Template expressions (`{{ cart.url }}`) are checked when
    they are rendered: a non-http(s) value is then left as it is, untracked."""
    problems = []
    for match in URL_RE.finditer(source):
        core, _ = _split(match.group(0))
        parts = urlsplit(core)
        if parts.scheme.lower() not in SCHEMES:
            problems.append(f"{core[:60]!r}: only http and https links may be sent")
        elif not parts.netloc or "{" in parts.netloc:
            problems.append(f"{core[:60]!r}: the link has no host")
    return problems


def new_token() -> str:
    """An unguessable link token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


@dataclass
class LinkRewriter:
    """Replaces http(s) links in texts by short links under `base`, collecting the rows."""

    base: str
    tenant_id: str
    campaign_id: int | None
    now: datetime = field(default_factory=lambda: datetime.now().astimezone())
    rows: list[dict[str, Any]] = field(default_factory=list)

    def rewrite(self, text: str, message_id: str, tokens: dict[str, str] | None = None) -> str:
        """`text` with each http(s) link replaced; `tokens` shares tokens between the texts
        of one message (a Viber text and its SMS fallback)."""
        if "://" not in text:  # no link URL_RE could find (most campaign texts)
            return text
        tokens = {} if tokens is None else tokens

        def replace(match: re.Match[str]) -> str:
            core, tail = _split(match.group(0))
            parts = urlsplit(core)
            if parts.scheme.lower() not in SCHEMES or not parts.netloc:
                return match.group(0)
            token = tokens.get(core)
            if token is None:
                token = tokens[core] = new_token()
                self.rows.append(
                    {
                        "token": token,
                        "tenant_id": self.tenant_id,
                        "message_id": message_id,
                        "campaign_id": self.campaign_id,
                        "target": core,
                        "created_at": self.now,
                        "expires_at": self.now + LINK_TTL,
                    }
                )
            return f"{self.base}{PATH}{token}{tail}"

        return URL_RE.sub(replace, text)


def link_base(config: dict[str, Any]) -> str:
    """The scheme and host short links are written with (no trailing slash)."""
    return str(config.get("LINK_DOMAIN") or config["PUBLIC_URL"]).rstrip("/")


def save_links(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert link rows in bulk, in the caller's transaction."""
    for start in range(0, len(rows), 1000):
        session.execute(insert(Link), rows[start : start + 1000])


def hot_value(tenant_id: str, message_id: str, campaign_id: int | None, target: str) -> str:
    """What Redis keeps of a link (the click queue carries it along)."""
    return json.dumps({"n": tenant_id, "m": message_id, "c": campaign_id, "target": target})


def cache_links(redis: Redis, rows: list[dict[str, Any]], now: datetime) -> None:
    """Put freshly committed links on Redis for HOT_TTL (or until they expire), pipelined."""
    with redis.pipeline(transaction=False) as pipe:
        for row in rows:
            ttl = int(min(HOT_TTL, row["expires_at"] - now).total_seconds())
            if ttl > 0:
                value = hot_value(row["tenant_id"], row["message_id"], row["campaign_id"],
                                  row["target"])  # fmt: skip
                pipe.set(HOT_PREFIX + row["token"], value, ex=ttl)
        pipe.execute()


def forget_links(redis: Redis, tokens: list[str]) -> None:
    """Drop links from Redis (after an erasure deleted their rows)."""
    for start in range(0, len(tokens), 500):
        redis.delete(*(HOT_PREFIX + t for t in tokens[start : start + 500]))


def valid_token(token: str) -> bool:
    """Whether `token` has the shape of one (anything else is not looked up)."""
    return 8 <= len(token) <= 24 and re.fullmatch(r"[A-Za-z0-9_-]+", token) is not None


@dataclass(frozen=True, slots=True)
class Target:
    """What a token resolves to."""

    tenant_id: str
    message_id: str
    campaign_id: int | None
    target: str


def resolve(session: Session, token: str, now: datetime) -> tuple[Target, datetime] | None:
    """The live link of `token` and when it expires; None when unknown or expired."""
    if not valid_token(token):
        return None
    row = session.execute(
        select(
            Link.tenant_id, Link.message_id, Link.campaign_id, Link.target, Link.expires_at
        ).where(Link.token == token)
    ).first()
    if row is None or row.expires_at <= now:
        return None
    return Target(row.tenant_id, row.message_id, row.campaign_id, row.target), row.expires_at
