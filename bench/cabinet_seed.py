"""Fill one store with 1,000,000 messages for the cabinet benchmark (bench/cabinet_pages.py).

Run: ``python bench/cabinet_seed.py [--messages 1000000] [--database-url URL]``

Default database: ``relay_cabinet_bench`` on the local PostgreSQL (its own name, so it never
empties another bench's ``relay_bench``), emptied (or created), migrated to the head. One
store ("bench-cabinet", BY) with an owner who signs in with +375291234567 / bench-password,
and messages spread evenly over the last 365 days,
written oldest first as they would arrive: 50,000 numbers (Belarusian and Russian, so several
operators), SMS and Viber, marketing and transactional, the usual mix of statuses (blocked ones
with a reason), costs on what was sent. Rows go in with COPY (relay/adapters/bulk_rows.py) in
chunks of 50,000, then ANALYZE. Prints the store id and the time taken.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/relay_cabinet_bench"
OWNER_PHONE = "+375291234567"
OWNER_PASSWORD = "bench-password"
TENANT_NAME = "bench-cabinet"
STATUSES = (  # (status, weight, reason)
    ("delivered", 62, None),
    ("read", 10, None),
    ("sent", 5, None),
    ("undelivered", 6, None),
    ("failed", 2, None),
    ("blocked", 9, "stoplist"),
    ("blocked", 3, "no_consent"),
    ("scheduled", 1, None),
    ("expired", 2, None),
)
BY_PREFIXES = ("+37529", "+37533", "+37544", "+37525")
RU_PREFIXES = ("+7916", "+7926", "+7903", "+7912", "+7950")


def phones(n: int, rnd: random.Random) -> list[str]:
    out = []
    for i in range(n):
        if i % 4 == 3:
            out.append(rnd.choice(RU_PREFIXES) + str(rnd.randrange(2 * 10**6, 10**7)))
        else:
            out.append(rnd.choice(BY_PREFIXES) + str(rnd.randrange(2 * 10**6, 10**7)))
    return out


def seed(database_url: str, total: int, now: datetime, chunk: int = 50_000) -> str:
    from sqlalchemy import text as sql

    from relay.adapters.bulk_rows import bulk_insert
    from relay.people import users
    from relay.storage.db import upgrade
    from relay.storage.models import Message
    from relay.tenancy.tenants import create_tenant
    from relay.wiring import build_runtime

    upgrade(database_url)
    rt = build_runtime({"DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:6379/13",
                        "LOG_LEVEL": "WARNING"})  # fmt: skip
    rnd = random.Random(20260115)
    with rt.session() as s:
        tenant = create_tenant(s, TENANT_NAME, "BY")
        users.create_user(s, tenant.id, OWNER_PHONE, "Bench", "owner", OWNER_PASSWORD, now)
        s.commit()
        tenant_id = tenant.id
    numbers = phones(50_000, rnd)
    weights = [w for _s, w, _r in STATUSES]
    span = int(timedelta(days=365).total_seconds())
    written = 0
    while written < total:
        n = min(chunk, total - written)
        rows = []
        picks = rnd.choices(STATUSES, weights=weights, k=n)
        for j, (status, _w, reason) in enumerate(picks):
            phone = rnd.choice(numbers)
            # in the order they would have arrived: oldest first, as the table grows in life
            created = now - timedelta(seconds=span * (1 - (written + j) / total))
            viber = rnd.random() < 0.2
            sent = status not in ("blocked", "scheduled", "failed")
            segments = 1 if viber else rnd.choice((1, 1, 1, 2))
            rows.append({
                "id": uuid4().hex,
                "tenant_id": tenant_id,
                "phone": phone,
                "channel": "viber" if viber else "sms",
                "category": "marketing" if rnd.random() < 0.4 else "transactional",
                "sender": "BenchShop",
                "text": f"Ваш заказ №{rnd.randrange(10**6)} собран. Отписаться: СТОП",
                "urgent": False,
                "status": status,
                "reason": reason,
                "reason_detail": "the number is on the store's stop-list" if reason else None,
                "segments": segments,
                "encoding": "UCS-2",
                "cost": Decimal("0.0450") * segments if sent else None,
                "currency": "BYN" if sent else None,
                "provider": "sandbox" if status != "blocked" else None,
                "attempts": 1 if sent else 0,
                "created_at": created,
                "updated_at": created + timedelta(seconds=30),
            })  # fmt: skip
        with rt.session() as s:
            bulk_insert(s, Message.__table__, rows)
            s.commit()
        written += n
        print(f"  {written:>9,} messages", flush=True)
    with rt.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(sql("ANALYZE"))
    rt.engine.dispose()
    return tenant_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    from bench._services import fresh_database, machine

    url = args.database_url or DEFAULT_URL
    if url.startswith("postgresql"):
        fresh_database(url)
    started = time.perf_counter()
    tenant_id = seed(url, args.messages, datetime.now(UTC))
    print(f"machine: {machine()}")
    print(f"seeded {args.messages:,} messages for store {tenant_id} in "
          f"{time.perf_counter() - started:.0f} s ({url.split('@')[-1]})")  # fmt: skip
    print(f"sign in: {OWNER_PHONE} / {OWNER_PASSWORD}")


if __name__ == "__main__":
    main()
