"""The consent ledger as an admin sees it: record, query, current state, bulk import.

The ledger is append-only (docs/architecture.md, 'Policy'): a revocation is a new record, never an
edit. The current state per channel is the latest applicable record, decided by the same function
the policy uses (relay.policy.current_consent), so what the admin sees is what the policy does.
Evidence export is in relay.compliance.consent_evidence.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.adapters.tabular import cell_text
from relay.compliance.audit import audit
from relay.compliance.chain import link_rows
from relay.contacts.import_rows import PHONE_HEADERS, Importer, RowReport
from relay.errors import RelayError
from relay.policy import ConsentRecord as PolicyConsent
from relay.policy import current_consent
from relay.storage.models import ALL_CHANNELS, ConsentRecord, Tenant
from shared.events import CHANNELS

CONSENT_CHANNELS = (*CHANNELS, ALL_CHANNELS)
MAX_WORDING = 10_000
_YES = {"1", "yes", "y", "true", "да", "д", "+", "grant", "granted", "согласен", "согласие"}
_NO = {"0", "no", "n", "false", "нет", "н", "-", "revoke", "revoked", "отказ", "отозвано"}


def record_dict(record: ConsentRecord) -> dict[str, Any]:
    """A ledger record as the API shows it."""
    return {
        "id": record.id,
        "phone": record.phone,
        "purpose": record.purpose,
        "channel": record.channel,
        "granted": record.granted,
        "source": record.source,
        "wording": record.wording,
        "ip": record.ip,
        "user_agent": record.user_agent,
        "captured_at": record.captured_at.isoformat() if record.captured_at else None,
        "recorded_at": record.recorded_at.isoformat() if record.recorded_at else None,
    }


def record_consent(
    session: Session, tenant: Tenant, data: dict[str, Any], actor: str, now: datetime
) -> ConsentRecord:
    """Append one grant or revocation (data already validated by the API schema)."""
    if data["granted"] and not (data.get("wording") or "").strip():
        raise RelayError(
            "wording_required",
            "a grant must carry the exact wording the person agreed to",
            422,
            {"wording": ["required for a grant"]},
        )
    record = ConsentRecord(
        tenant_id=tenant.id,
        phone=data["phone"],
        purpose=data.get("purpose") or "marketing",
        channel=data.get("channel") or ALL_CHANNELS,
        granted=bool(data["granted"]),
        source=data["source"],
        wording=data.get("wording"),
        ip=data.get("ip"),
        user_agent=data.get("user_agent"),
        # times are kept in UTC (docs/architecture.md, 'API'); the offset the client sent is not
        # evidence
        captured_at=data["captured_at"].astimezone(UTC) if data.get("captured_at") else None,
        recorded_at=now,
    )
    session.add(record)
    session.flush()
    audit(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="consent.grant" if record.granted else "consent.revoke",
        target_type="consent_record",
        target_id=record.id,
        after=record_dict(record),
        at=now,
    )
    return record


def list_records(
    session: Session,
    tenant_id: str,
    *,
    phone: str | None = None,
    source: str | None = None,
    cursor: int | None = None,
    limit: int = 100,
) -> tuple[list[ConsentRecord], int | None]:
    """Newest recorded first, keyset-paginated on the id.

    Ordered by the id alone, the key the cursor pages on: `recorded_at` comes from the clock of
    whichever process recorded the row, which need not agree with the insert order, and
    ordering by it while paging by id would skip or repeat records across pages."""
    stmt = select(ConsentRecord).where(ConsentRecord.tenant_id == tenant_id)
    if phone:
        stmt = stmt.where(ConsentRecord.phone == phone)
    if source:
        stmt = stmt.where(ConsentRecord.source == source)
    if cursor is not None:
        stmt = stmt.where(ConsentRecord.id < cursor)
    stmt = stmt.order_by(ConsentRecord.id.desc())
    rows = list(session.scalars(stmt.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def current_state(session: Session, tenant_id: str, phone: str) -> dict[str, Any]:
    """Per channel, the marketing record in force now (None: never asked, so no consent)."""
    records = list(
        session.scalars(
            select(ConsentRecord).where(
                ConsentRecord.tenant_id == tenant_id,
                ConsentRecord.phone == phone,
                ConsentRecord.purpose == "marketing",
            )
        )
    )
    return {channel: _current(records, channel) for channel in CHANNELS}


def _current(records: list[ConsentRecord], channel: str) -> dict[str, Any] | None:
    policy = [
        PolicyConsent(
            granted=r.granted,
            channel=None if r.channel == ALL_CHANNELS else r.channel,
            source=r.source,
            recorded_at=r.recorded_at,
        )
        for r in records
    ]
    found = current_consent(policy, channel)
    if found is None:
        return None
    # current_consent returns one of the objects it was given: find its ledger row by identity
    match = records[next(i for i, p in enumerate(policy) if p is found)]
    return {"granted": match.granted, "record": record_dict(match)}


def parse_granted(value: Any, default: bool) -> bool:
    """A yes/no cell (да/нет, 1/0, grant/revoke …); empty takes the default. ValueError else."""
    text = cell_text(value).lower()
    if not text:
        return default
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(text)


def parse_moment(value: Any, zone: ZoneInfo) -> datetime | None:
    """A date or time cell as aware UTC; times without an offset are the tenant's local time."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = cell_text(value)
        parsed: datetime | None = None
        for fmt in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"):
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        # ValueError propagates: invalid_date
        moment = parsed if parsed is not None else datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def import_options(wording: Any, channel: Any, granted: bool) -> dict[str, Any]:
    """The options of a consent import, checked: the exact wording these people agreed to is
    required (a record without it proves nothing), the channel is one the ledger knows."""
    text = str(wording or "").strip()
    if not text:
        raise RelayError(
            "wording_required",
            "send the exact wording these people agreed to in the form field 'wording'",
            422,
            {"wording": ["required"]},
        )
    if len(text) > 10_000:
        raise RelayError(
            "invalid_wording", "the wording is at most 10000 characters", 422,
            {"wording": ["at most 10000 characters"]},
        )  # fmt: skip
    if channel is not None and channel not in CONSENT_CHANNELS:
        raise RelayError(
            "invalid_channel", f"channel must be one of {list(CONSENT_CHANNELS)}, got {channel!r}",
            422, {"channel": [f"one of {list(CONSENT_CHANNELS)}"]},
        )  # fmt: skip
    return {"wording": text, "channel": channel, "granted": bool(granted)}


class ConsentImporter(Importer):
    """Consent records from a file with source `import` and the wording the request carries."""

    kind = "consent"
    roles = {
        "phone": PHONE_HEADERS,
        "granted": ("granted", "consent", "согласие", "status", "статус"),
        "channel": ("channel", "канал"),
        "captured_at": ("captured_at", "date", "дата", "дата согласия", "время", "consent date"),
        "ip": ("ip", "ip address", "ip-адрес", "ip адрес"),
        "user_agent": ("user_agent", "user agent", "браузер"),
    }

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.wording = self.options.get("wording") or ""
        self.default_channel = self.options.get("channel") or ALL_CHANNELS
        self.default_granted = bool(self.options.get("granted", True))
        self.zone = ZoneInfo(self.tenant.timezone)

    def take(self, row: int, cells: list[Any], report: RowReport) -> dict[str, Any] | None:
        raw_phone = self.layout.get(cells, "phone")
        phone = self.phone(row, raw_phone, report)
        if phone is None:
            return None
        channel = cell_text(self.layout.get(cells, "channel")).lower() or self.default_channel
        if channel not in CONSENT_CHANNELS:
            report.reject(row, channel, "invalid_channel", f"one of {list(CONSENT_CHANNELS)}")
            return None
        try:
            granted = parse_granted(self.layout.get(cells, "granted"), self.default_granted)
        except ValueError:
            report.reject(row, self.layout.get(cells, "granted"), "invalid_granted", "yes or no")
            return None
        try:
            captured = parse_moment(self.layout.get(cells, "captured_at"), self.zone)
        except ValueError:
            report.reject(row, self.layout.get(cells, "captured_at"), "invalid_date")
            return None
        ip = cell_text(self.layout.get(cells, "ip")) or None
        if ip is not None:
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                report.reject(row, ip, "invalid_ip")
                return None
        if not self.first_time(row, (phone, channel), raw_phone, report):
            return None
        return {
            "phone": phone,
            "channel": channel,
            "granted": granted,
            "captured_at": captured,
            "ip": ip,
            "user_agent": cell_text(self.layout.get(cells, "user_agent"))[:1024] or None,
        }

    def write(self, rows: list[dict[str, Any]]) -> None:
        common = {
            "tenant_id": self.tenant.id,
            "purpose": "marketing",
            "source": "import",
            "wording": self.wording,
            "recorded_at": self.now,
        }
        chained = [{**common, **r} for r in rows]
        link_rows(self.session, "consent_records", chained)  # bulk rows join the chain too
        self.insert_rows(ConsentRecord, chained)

    def finish(self, report: RowReport) -> None:
        audit(
            self.session,
            tenant_id=self.tenant.id,
            actor=self.options.get("actor") or "unknown",
            action="consent.import",
            target_type="import_job",
            target_id=self.job.id,
            after={
                "file": self.options.get("filename"),
                "wording": self.wording,
                "channel": self.default_channel,
                "accepted": self.job.accepted,
                "rejected": self.job.rejected,
            },
            at=self.now,
        )
