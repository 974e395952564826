"""Helpers for the campaign and report tests (no tests here).

Books and contacts are written straight through the models, so these tests do not depend on
the address-book endpoints another part of the admin API provides.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import insert, select

from relay.content.flowdefs import save_template
from relay.runtime import Runtime
from relay.storage.models import (
    AddressBook,
    ConsentRecord,
    Contact,
    Message,
    StopEntry,
    Tenant,
)
from relay.tenancy.tenant_cache import TENANT_CONFIG

PROMO = "{{ contact.name or 'Здравствуйте' }}, скидка 10% до воскресенья!"


def phone(i: int) -> str:
    """A valid Belarusian mobile; the sandbox delivers it (its ending is never 00–04)."""
    return f"+37529{2000000 + i * 100 + 55}"


def make_book(
    rt: Runtime,
    tenant_id: str,
    count: int,
    *,
    name: str = "clients",
    fields: Any = None,
    birthdays: dict[int, date] | None = None,
) -> int:
    """A book of `count` contacts phone(0) … phone(count-1), named "Contact i"."""
    with rt.session() as s:
        book = AddressBook(tenant_id=tenant_id, name=name)
        s.add(book)
        s.flush()
        rows = [
            {
                "book_id": book.id,
                "tenant_id": tenant_id,
                "phone": phone(i),
                "name": f"Contact {i}",
                "birthday": (birthdays or {}).get(i),
                "fields": fields(i) if callable(fields) else fields,
                "created_at": datetime(2026, 1, 1, tzinfo=UTC),
            }
            for i in range(count)
        ]
        if rows:
            s.execute(insert(Contact), rows)
        s.commit()
        return book.id


def consent(rt: Runtime, tenant_id: str, phones: list[str], granted: bool = True) -> None:
    """Marketing consent records (source import) for `phones`, a month before the test clock."""
    at = datetime(2025, 12, 15, tzinfo=UTC)
    with rt.session() as s:
        s.execute(
            insert(ConsentRecord),
            [
                {
                    "tenant_id": tenant_id,
                    "phone": p,
                    "purpose": "marketing",
                    "channel": "all",
                    "granted": granted,
                    "source": "import",
                    "wording": "Согласен получать рекламу",
                    "recorded_at": at,
                    "captured_at": at,
                }
                for p in phones
            ],
        )
        s.commit()


def stop(rt: Runtime, tenant_id: str, number: str) -> None:
    """An admin stop-list entry on every channel."""
    with rt.session() as s:
        s.add(StopEntry(tenant_id=tenant_id, phone=number, channel="all", source="admin"))
        s.commit()


def template(
    rt: Runtime, tenant_id: str, name: str = "promo", text: str = PROMO, **extra: Any
) -> int:
    """Save a marketing template (a new version when the text changes); returns its id."""
    with rt.session() as s:
        tenant = s.get(Tenant, tenant_id)
        spec = {"name": name, "category": "marketing", "sms_text": text, **extra}
        tpl = save_template(s, tenant, spec, "template")
        s.commit()
        TENANT_CONFIG.invalidate(tenant_id)
        return tpl.id


def campaign_body(book_id: int, **extra: Any) -> dict[str, Any]:
    """A minimal valid campaign body."""
    return {"name": "Winter sale", "book_id": book_id, "template": "promo", **extra}


def messages(rt: Runtime, campaign_id: int) -> list[Message]:
    """The campaign's messages, oldest slot first."""
    with rt.session() as s:
        return list(
            s.scalars(
                select(Message)
                .where(Message.campaign_id == campaign_id)
                .order_by(Message.not_before, Message.phone)
            )
        )


def release_scheduled(rt: Runtime) -> int:
    """Do what RQ's scheduler does, at the test clock: move jobs whose time has come from the
    scheduled registry onto the queue. Returns how many moved."""
    queue = Queue(rt.config["QUEUE_NAME"], connection=rt.redis)
    registry = ScheduledJobRegistry(queue=queue)
    due = registry.get_jobs_to_schedule(int(rt.now().timestamp()))
    for job_id in due:
        queue.enqueue_job(Job.fetch(job_id, connection=rt.redis))
        registry.remove(job_id)
    return len(due)


def minutes(n: float) -> timedelta:
    """A timedelta of n minutes."""
    return timedelta(minutes=n)
