"""What a connector gets from its host: the relay, or a stand-alone runner.

See docs/architecture.md, 'Connectors'.

A connector package exposes:

    def create_blueprint(ctx: ConnectorContext) -> flask.Blueprint  # at /connectors/<platform>
    def create_writeback(ctx: ConnectorContext) -> Writeback  # status/reply write-back

and keeps `ctx` for its jobs (`set_context` / `get_context`). Webhook handlers verify, record
the payload in the durable inbox, enqueue the slow work by dotted path and answer at once;
jobs receive only the inbox id and re-read the record, so a redelivered job is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from shared.client import RelayClient
from shared.installations import InstallationStore
from shared.pacing import Pacer
from shared.writeback import ClaimStore, MemoryClaimStore


@dataclass(frozen=True)
class InboxRecord:
    """A webhook or platform call as received, kept until processed (and after, as evidence)."""

    id: int
    platform: str
    account: str
    kind: str
    payload: dict[str, Any]
    status: str  # received | done | skipped | failed
    detail: str | None = None
    dedupe_key: str | None = None


@runtime_checkable
class Inbox(Protocol):
    """Durable record of what platforms sent, so no event is lost between answer and work."""

    def record(
        self,
        platform: str,
        account: str,
        kind: str,
        payload: dict[str, Any],
        dedupe_key: str | None = None,
    ) -> InboxRecord | None:
        """Store a payload; None when `dedupe_key` was already recorded (a repeat delivery)."""
        ...

    def load(self, record_id: int) -> InboxRecord | None:
        """Read a record back (in the job)."""
        ...

    def finish(self, record_id: int, status: str, detail: str | None = None) -> None:
        """Mark a record done, skipped (with the reason) or failed (with the error)."""
        ...


@runtime_checkable
class TenantDirectory(Protocol):
    """Creating and finding tenants for platform installations (e.g. a Bitrix24 portal)."""

    def ensure_tenant(
        self, platform: str, account: str, name: str, region: str, timezone: str | None = None
    ) -> str:
        """The id of the tenant linked to this platform account, creating it if needed."""
        ...

    def set_tenant_status(self, tenant_id: str, status: str) -> None:
        """active | disabled | needs_reinstall | needs_reauth."""
        ...

    def load_flows(self, tenant_id: str, document: dict[str, Any]) -> None:
        """Install or update a tenant's templates and flows (the connector's defaults)."""
        ...


@dataclass
class ConnectorContext:
    """Everything a connector may use from its host."""

    platform: str
    store: InstallationStore
    inbox: Inbox
    tenants: TenantDirectory
    client_for: Callable[[str], RelayClient]  # tenant id → a RelayClient acting for it
    enqueue: Callable[..., None]  # enqueue("connectors.x.jobs.f", *args): run in a worker
    public_url: str = "http://127.0.0.1:8000"
    config: dict[str, Any] = field(default_factory=dict)
    # a relay API key (with the `admin` scope) → its tenant id, or None: lets a store owner
    # set up an installation with the key the relay gave them
    authenticate: Callable[[str], str | None] = lambda _key: None
    # a tenant id → a one-time link (2 minutes, used once) that opens the relay's web cabinet
    # without a password, or None: settings pages show it as "open the cabinet"
    cabinet_link: Callable[[str], str | None] = lambda _tenant_id: None
    # idempotent markers claimed before a platform call that must happen once (write-back)
    claims: ClaimStore = field(default_factory=MemoryClaimStore)
    # the platform's rate per account, shared by every process and host calling it (the relay
    # keeps it in Redis); None: each process paces its own calls
    pacer: Pacer | None = None

    def url_for(self, path: str) -> str:
        """An absolute URL under this connector's mount point."""
        return f"{self.public_url.rstrip('/')}/connectors/{self.platform}/{path.lstrip('/')}"


_CONTEXTS: dict[str, ConnectorContext] = {}


def set_context(ctx: ConnectorContext) -> None:
    """Register the context of a platform in this process (hosts call this at start-up)."""
    _CONTEXTS[ctx.platform] = ctx


def get_context(platform: str) -> ConnectorContext:
    """The context registered for `platform`; jobs use it."""
    try:
        return _CONTEXTS[platform]
    except KeyError:
        raise RuntimeError(f"no connector context registered for {platform!r}") from None
