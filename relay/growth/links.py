"""Short links: the links of a message's text replaced by tokens on the relay, per recipient.

A token is 12 characters of base64url from `secrets` (72 bits): unguessable, and short enough
that the link's length is counted in the message's segments before it is sent (the planner
rewrites the text before it decides and prices it). Only http(s) targets are tracked; a
template whose text names another scheme is refused when it is saved (`link_problems`).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from relay.storage.models import Link

# a link is a scheme and what follows up to white space; trailing punctuation that ends a
# sentence is not part of it
URL_RE = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}://[^\s<>\"']+")
_TRAILING = ".,;:!?)»"
SCHEMES = ("http", "https")
LINK_TTL = timedelta(days=90)
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


@dataclass(frozen=True, slots=True)
class Target:
    """What a token resolves to."""

    tenant_id: str
    message_id: str
    campaign_id: int | None
    target: str


def resolve(session: Session, token: str, now: datetime) -> Target | None:
    """The live link of `token`; None when unknown or expired."""
    if not (8 <= len(token) <= 24) or not re.fullmatch(r"[A-Za-z0-9_-]+", token):
        return None
    row = session.execute(
        select(
            Link.tenant_id, Link.message_id, Link.campaign_id, Link.target, Link.expires_at
        ).where(Link.token == token)
    ).first()
    if row is None or row.expires_at <= now:
        return None
    return Target(row.tenant_id, row.message_id, row.campaign_id, row.target)
