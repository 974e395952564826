"""Erasure of one phone number on request (152-FZ art. 21, GDPR art. 17), and the salted hash
that keeps an erased number blocked.

What `erase_phone` does, for one tenant, in the caller's transaction:

- **contacts** with the number are deleted (from every address book); a campaign's test phone
  is cleared;
- **clicks** on the number's short links and the **links** themselves are deleted;
- **messages** (and archived ones), **replies** (inbound messages), **survey answers**:
  the number becomes its token (below), texts, comments, payloads and details are emptied;
  ids, statuses, reasons, segments, costs and timestamps stay, so statistics still add up;
- **events** that carried the number (linked to its messages or consents, or holding it in
  their payload) and **connector inbox** records holding it keep their type, times and
  idempotency hash; their payload becomes `{"erased": true}`;
- **the stop-list keeps the number blocked**: its entries are kept under the token, and an
  all-channel `admin` entry is added under the token when there was none, so a later event to
  the number is still blocked `stop_list` (`add_erased_stops`, called by the facts loader);
- **the tamper-evident ledger stays as it is**: consent records, stop-list changes and audit
  entries are hash-chained (relay/compliance/chain.py) and kept unchanged, with the number, for
  their retention period — they are the evidence the law requires the tenant to keep (consent
  to advertising, the opt-out and who changed what), which is an exception to erasure; editing
  them would also break the chain that proves they were never edited. They are removed when
  their retention period ends, not by an erasure;
- **import reports** that quoted the number quote the token instead;
- the erasure itself is one audit entry (`erasure.phone`) with the token and the counts, never
  the number.

The token is `h:` + 18 characters of base64url(HMAC-SHA256(tenant salt, E.164 number)): 108
bits, fits the 20-character phone columns, one-way without the salt. The salt is random per
tenant, kept in the tenant's settings (never shown by the API); it is created by the first
erasure. Found by digits, a number written with separators inside a free-text payload
(`+7 916 123-45-67`) is not found: payloads that are linked to the number are erased whole.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, delete, func, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from relay.compliance.audit import audit
from relay.messages.lifecycle import forget_history_details
from relay.policy import StopEntry as PolicyStop
from relay.storage.dml import affected_rows
from relay.storage.models import (
    ALL_CHANNELS,
    Campaign,
    Click,
    ConnectorInbox,
    ConsentRecord,
    Contact,
    Event,
    ImportJob,
    InboundMessage,
    Installation,
    Link,
    Message,
    OptoutReview,
    StopEntry,
    SurveyResponse,
    Tenant,
    messages_archive,
)

TOKEN_PREFIX = "h:"
SALT_SETTING = "erasure_salt"
ERASED = {"erased": True}


def erased_token(salt: str, phone: str) -> str:
    """The number's stand-in: `h:` + 18 base64url characters of HMAC-SHA256(salt, phone)."""
    digest = hmac.new(salt.encode(), phone.encode(), hashlib.sha256).digest()
    return TOKEN_PREFIX + base64.urlsafe_b64encode(digest).decode()[:18]


def tenant_salt(session: Session, tenant_id: str) -> str | None:
    """The tenant's erasure salt, None before its first erasure."""
    settings = session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
    salt = settings.get(SALT_SETTING)
    return str(salt) if salt else None


def _ensure_salt(session: Session, tenant: Tenant) -> str:
    salt = (tenant.settings or {}).get(SALT_SETTING)
    if not salt:
        salt = secrets.token_hex(16)
        tenant.settings = {**(tenant.settings or {}), SALT_SETTING: salt}
        session.flush()
    return str(salt)


def add_erased_stops(
    session: Session,
    tenant_id: str,
    phones: Iterable[str],
    stops: dict[str, list[PolicyStop]],
) -> None:
    """Add to `stops` (phone → entries, as the facts loader builds it) the stop-list entries
    kept under the token of an erased number; one query, none for a tenant with no erasure."""
    salt = tenant_salt(session, tenant_id)
    if salt is None:
        return
    tokens = {erased_token(salt, phone): phone for phone in phones}
    if not tokens:
        return
    rows = session.connection().execute(
        select(StopEntry.phone, StopEntry.channel, StopEntry.source, StopEntry.created_at).where(
            StopEntry.tenant_id == tenant_id, StopEntry.phone.in_(list(tokens))
        )
    )
    for row in rows:
        stops[tokens[row.phone]].append(
            PolicyStop(
                channel=None if row.channel == ALL_CHANNELS else row.channel,
                source=row.source,
                created_at=row.created_at,
            )
        )


def _national(phone: str) -> str:
    """The national significant number (the digits every way of writing it shares)."""
    import phonenumbers

    try:
        return phonenumbers.national_significant_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return phone.lstrip("+")


# in a record that quotes the number (an audit entry's before/after, an import report row),
# what else is about the person goes with it; consent wording stays (it is the evidence)
PERSONAL_KEYS = ("name", "fields", "birthday", "note", "text", "comment", "email")


def _replace_in(value: Any, pattern: re.Pattern[str], token: str) -> Any:
    """`value` (JSON data) with every match of `pattern` in its strings replaced by `token`,
    and the PERSONAL_KEYS of every object that quoted the number emptied."""
    if value is None:
        return None
    text = json.dumps(value, ensure_ascii=False)
    if not pattern.search(text):
        return value
    value = json.loads(pattern.sub(token, text))
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if token in json.dumps(node, ensure_ascii=False):
                for key in PERSONAL_KEYS:
                    if key in node:
                        node[key] = None
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return value


def _json_like(column: Any, pattern: str) -> Any:
    """LIKE on a JSON-as-text column, compared as the stored text."""
    return type_coerce(column, Text).like(pattern)


def erase_phone(
    session: Session, tenant: Tenant, phone: str, *, actor: str, now: datetime
) -> dict[str, Any]:
    """Erase `phone` (E.164) for `tenant` as the module docstring says; returns the report."""
    salt = _ensure_salt(session, tenant)
    token = erased_token(salt, phone)
    nsn = _national(phone)
    like = f"%{nsn}%"
    in_text = re.compile(r"\+?\d{0,4}" + re.escape(nsn))
    tid = tenant.id
    report: dict[str, Any] = {"tenant_id": tid, "token": token}

    def run(key: str, stmt: Any) -> None:
        report[key] = report.get(key, 0) + (affected_rows(session, stmt) or 0)

    run("contacts_deleted", delete(Contact).where(Contact.tenant_id == tid, Contact.phone == phone))
    run(
        "campaign_test_phones_cleared",
        update(Campaign)
        .where(Campaign.tenant_id == tid, Campaign.test_phone == phone)
        .values(test_phone=None),
    )

    mine = (Message.tenant_id == tid, Message.phone == phone)
    event_pks = set(
        session.scalars(select(Message.event_pk).where(*mine, Message.event_pk.is_not(None)))
    )
    event_pks |= set(
        session.scalars(
            select(ConsentRecord.event_pk).where(
                ConsentRecord.tenant_id == tid,
                ConsentRecord.phone == phone,
                ConsentRecord.event_pk.is_not(None),
            )
        )
    )
    # clicks are personal data, and a link's target may be personal (a cart's own address):
    # both go; orders credited to the messages keep only ids and sums, so totals still add up
    report["link_tokens"] = list(
        session.scalars(
            select(Link.token).where(Link.message_id.in_(select(Message.id).where(*mine)))
        )
    )  # for the caller to drop from Redis after commit (relay.growth.links.forget_links)
    run("clicks_erased", delete(Click).where(Click.message_id.in_(select(Message.id).where(*mine))))
    run("links_erased", delete(Link).where(Link.message_id.in_(select(Message.id).where(*mine))))
    # status changes keep their status, reason and time; their free-text detail goes
    forget_history_details(session, select(Message.id).where(*mine))
    scrubbed = {
        "phone": token,
        "text": "",
        "fallback_text": None,
        "viber": None,
        "context": None,
        "reason_detail": None,
        "error": None,
    }
    # the same columns as `scrubbed`, written out: an erasure never touches a status
    run(
        "messages_anonymised",
        update(Message)
        .where(Message.tenant_id == tid, Message.phone == phone)
        .values(
            phone=token,
            text="",
            fallback_text=None,
            viber=None,
            context=None,
            reason_detail=None,
            error=None,
        ),
    )
    run(
        "messages_anonymised",
        update(messages_archive)
        .where(messages_archive.c.tenant_id == tid, messages_archive.c.phone == phone)
        .values(**scrubbed),
    )
    run(
        "replies_anonymised",
        update(InboundMessage)
        .where(
            or_(InboundMessage.tenant_id == tid, InboundMessage.tenant_id.is_(None)),
            InboundMessage.sender == phone,
        )
        .values(sender=token, text="", raw=None, detail=None),
    )
    run(
        "survey_answers_anonymised",
        update(SurveyResponse)
        .where(SurveyResponse.tenant_id == tid, SurveyResponse.phone == phone)
        .values(phone=token, comment=None),
    )

    event_pks |= set(
        session.scalars(
            select(Event.id).where(Event.tenant_id == tid, _json_like(Event.payload, like))
        )
    )
    pks = sorted(pk for pk in event_pks if pk is not None)
    for start in range(0, len(pks), 500):
        run(
            "events_erased",
            update(Event).where(Event.id.in_(pks[start : start + 500])).values(payload=ERASED),
        )
    report.setdefault("events_erased", 0)
    accounts = session.execute(
        select(Installation.platform, Installation.account).where(Installation.tenant_id == tid)
    ).all()
    if accounts:
        run(
            "inbox_records_erased",
            update(ConnectorInbox)
            .where(
                or_(
                    *(
                        and_(ConnectorInbox.platform == p, ConnectorInbox.account == a)
                        for p, a in accounts
                    )
                ),
                _json_like(ConnectorInbox.payload, like),
            )
            .values(payload=ERASED, detail=None),
        )
    report.setdefault("inbox_records_erased", 0)

    # the stop-list keeps the number blocked, under its token
    run(
        "stoplist_entries_hashed",
        update(StopEntry)
        .where(StopEntry.tenant_id == tid, StopEntry.phone == phone)
        .values(phone=token, note=None),
    )
    blocked = session.scalar(
        select(StopEntry.id).where(
            StopEntry.tenant_id == tid,
            StopEntry.phone == token,
            StopEntry.channel == ALL_CHANNELS,
            StopEntry.source == "admin",
        )
    )
    if blocked is None:
        session.add(
            StopEntry(
                tenant_id=tid,
                phone=token,
                channel=ALL_CHANNELS,
                source="admin",
                note="erasure",
                created_at=now,
            )
        )
    # the chained ledger (consent records, stop-list changes, audit) is evidence: kept as it is
    report["consent_records_kept"] = (
        session.scalar(
            select(func.count())
            .select_from(ConsentRecord)
            .where(ConsentRecord.tenant_id == tid, ConsentRecord.phone == phone)
        )
        or 0
    )
    # opt-out reviews waiting on the number: decided by the erasure (the number stays blocked)
    run(
        "optout_reviews_erased",
        delete(OptoutReview).where(OptoutReview.tenant_id == tid, OptoutReview.phone == phone),
    )

    # what quoted the number outside the ledger (import reports) quotes the token
    quoted = 0
    for job in session.scalars(
        select(ImportJob).where(ImportJob.tenant_id == tid, _json_like(ImportJob.report, like))
    ):
        job.report = _replace_in(job.report, in_text, token)
        quoted += 1
    report["records_requoted"] = quoted
    session.flush()
    audit(
        session,
        tenant_id=tid,
        actor=actor,
        action="erasure.phone",
        target_type="phone",
        target_id=token,
        after={k: v for k, v in report.items() if k not in ("tenant_id", "link_tokens")},
        at=now,
    )
    return report
