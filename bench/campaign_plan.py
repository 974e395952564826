"""Campaign planning over a 100,000-contact book: the policy for every recipient, paced.

    python bench/campaign_plan.py [--contacts 100000] [--consented 0.5] [--pace 1000/10]
                                 [--import-xlsx] [--quick]

Creates a tenant, a marketing template and a book of N Belarusian contacts directly in the
database (bulk INSERT) — or, with --import-xlsx, by importing an .xlsx file of them through
the address-book upload path (timed too: the issue's target is import + planning) — with
marketing consent for a share of them (bulk INSERT), then times
`POST /v1/campaigns/<id>/start` as the service does it: the admission check, then planning of
every recipient (render, facts per chunk, `decide()` at its paced send time, bulk writes,
enqueueing) — inline here, where a big launch would go to a worker. It runs in a fresh child
process and reports that process's peak RSS (`resource.getrusage`), so nothing the parent did
counts. Uses RELAY_BENCH_DATABASE_URL (default: a fresh `relay_bench_campaigns` database on the
local PostgreSQL) and RELAY_BENCH_CAMPAIGN_REDIS_URL, else RELAY_BENCH_REDIS_URL (default:
redis://127.0.0.1:6379/13), which is flushed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._services import machine  # noqa: E402

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/relay_bench_campaigns"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)  # 12:00 in Minsk: a daytime start


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    from bench._memory import peak_rss_mb

    return peak_rss_mb()


def phones(start: int, stop: int) -> list[str]:
    """Belarusian mobiles of three operators, the same for every run."""
    return [f"+375{('29', '33', '44')[i % 3]}{2000000 + i:07d}" for i in range(start, stop)]


def base_setup(rt, contacts: int, consented: float) -> str:  # type: ignore[no-untyped-def]
    """Tenant, marketing template and consent records (bulk); returns the tenant id."""
    from sqlalchemy import insert

    from relay.compliance.chain import link_rows
    from relay.content.flowdefs import save_template
    from relay.storage.models import ConsentRecord
    from relay.tenancy.tenants import create_tenant

    step = max(1, round(1 / consented)) if consented else 0
    with rt.session() as s:
        tenant = create_tenant(s, "bench-campaigns", "BY")
        text = "{{ contact.name or 'Здравствуйте' }}, скидка 10% {{ fields.city | default('') }}!"
        save_template(s, tenant, {"name": "promo", "category": "marketing", "sms_text": text}, "t")
        for start in range(0, contacts, 10_000):
            block = phones(start, min(contacts, start + 10_000))
            granted = [p for i, p in enumerate(block, start) if step and i % step == 0]
            if granted:
                rows = [
                    {
                        "tenant_id": tenant.id,
                        "phone": p,
                        "purpose": "marketing",
                        "channel": "all",
                        "granted": True,
                        "source": "import",
                        "wording": "Согласен получать рекламу",
                        "recorded_at": NOW.replace(year=2025),
                    }
                    for p in granted
                ]
                # chained as a consent import chains them: unchained rows would be adopted
                # into the ledger by the launch's audit entry, inside the timed section
                link_rows(s, "consent_records", rows)
                s.execute(insert(ConsentRecord), rows)
        s.commit()
        return tenant.id


def bulk_book(rt, tenant_id: str, contacts: int) -> int:  # type: ignore[no-untyped-def]
    """A book filled with bulk INSERTs (no file); returns its id."""
    from sqlalchemy import insert

    from relay.storage.models import AddressBook, Contact

    with rt.session() as s:
        book = AddressBook(tenant_id=tenant_id, name="100k")
        s.add(book)
        s.flush()
        for start in range(0, contacts, 10_000):
            s.execute(
                insert(Contact),
                [
                    {
                        "book_id": book.id,
                        "tenant_id": tenant_id,
                        "phone": p,
                        "name": f"Клиент {i}",
                        "fields": {"city": "Минск" if i % 2 else "Гродно"},
                        "created_at": NOW,
                    }
                    for i, p in enumerate(phones(start, min(contacts, start + 10_000)), start)
                ],
            )
        s.commit()
        return book.id


def write_xlsx(path: str, contacts: int) -> None:
    """The same book as an Excel file (openpyxl write-only), as a tenant would upload it."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Контакты")
    ws.append(["Телефон", "Имя", "city"])
    for start in range(0, contacts, 10_000):
        for i, p in enumerate(phones(start, min(contacts, start + 10_000)), start):
            ws.append([p, f"Клиент {i}", "Минск" if i % 2 else "Гродно"])
    wb.save(path)


def import_book(rt, tenant_id: str, path: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    """The upload path of POST /v1/books/import, run inline: store, inspect, import, commit."""
    from relay.contacts.addressbooks import create_book
    from relay.contacts.imports import create_job, inspect_upload, run_import, store_upload
    from relay.storage.models import Tenant

    with open(path, "rb") as fh:
        upload = store_upload(rt, fh, "book.xlsx")
    estimate = inspect_upload(upload, "address_book")
    with rt.session() as s:
        tenant = s.get(Tenant, tenant_id)
        book = create_book(s, tenant, "100k", "bench", NOW, status="importing")
        job = create_job(s, tenant, "address_book", estimate, NOW, target_id=book.id)
        run_import(s, rt, job, upload, {})
        s.commit()
        upload.path.unlink(missing_ok=True)
        return book.id, {"accepted": job.accepted, "rejected": job.rejected}


def make_campaign(rt, tenant_id: str, book_id: int, pace: tuple[int, int]) -> int:  # type: ignore[no-untyped-def]
    """A draft marketing campaign over the book; returns its id."""
    from relay.campaigns.campaigns import create_campaign
    from relay.storage.models import Tenant

    with rt.session() as s:
        body = {
            "name": "bench",
            "book_id": book_id,
            "template": "promo",
            "pace": {"count": pace[0], "minutes": pace[1]},
        }
        campaign = create_campaign(s, s.get(Tenant, tenant_id), body, NOW)
        s.commit()
        return campaign.id


def analyze(rt) -> None:  # type: ignore[no-untyped-def]
    """What autovacuum does after a bulk load (the bench server may run without it)."""
    from sqlalchemy import text

    if rt.engine.dialect.name == "postgresql":
        with rt.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()


def child(args: argparse.Namespace) -> None:
    """Set up, then time the import (with --xlsx) and the launch; prints one JSON line."""
    from relay.campaigns import runs as campaign_runs
    from relay.campaigns.control import start
    from relay.storage.db import upgrade
    from relay.storage.models import Campaign, Tenant
    from relay.wiring import build_runtime

    upgrade(os.environ["RELAY_DATABASE_URL"])
    rt = build_runtime({"QUEUE_NAME": "bench-campaign", "UPLOAD_DIR": args.upload_dir})
    rt.redis.flushdb()
    rt.clock = lambda: NOW
    count, minutes = (int(x) for x in args.pace.split("/"))
    out: dict = {}
    t0 = time.perf_counter()
    tenant_id = base_setup(rt, args.contacts, args.consented)
    if args.xlsx:
        out["setup_s"] = time.perf_counter() - t0
        t_import = time.perf_counter()
        book_id, out["import"] = import_book(rt, tenant_id, args.xlsx)
        out["import_s"] = time.perf_counter() - t_import
        out["rss_after_import_mb"] = rss_mb()
        analyze(rt)
    else:
        book_id = bulk_book(rt, tenant_id, args.contacts)
        analyze(rt)
        out["setup_s"] = time.perf_counter() - t0
        out["rss_after_setup_mb"] = rss_mb()
    campaign_id = make_campaign(rt, tenant_id, book_id, (count, minutes))
    campaign_runs.INLINE_LIMIT = 10**9  # plan in this process, as a worker would
    t1 = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    with rt.session() as s:
        tenant = s.get(Tenant, tenant_id)
        start(rt, s, tenant, s.get(Campaign, campaign_id), "bench", NOW)
    out["plan_s"] = time.perf_counter() - t1
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    out["plan_cpu_s"] = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    with rt.session() as s:
        out["progress"] = dict(s.get(Campaign, campaign_id).progress)
    out["jobs"] = rt.redis.zcard("rq:scheduled:bench-campaign") + rt.redis.llen(
        "rq:queue:bench-campaign"
    )
    rt.redis.flushdb()
    out["peak_rss_mb"] = rss_mb()
    print(json.dumps(out))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="10,000 contacts (about 20 s)")
    ap.add_argument("--consented", type=float, default=0.5, help="share with consent (0..1)")
    ap.add_argument("--pace", default="1000/10", help="N/M: N messages per M minutes")
    ap.add_argument(
        "--import-xlsx",
        action="store_true",
        help="fill the book by importing an .xlsx file (the upload path) instead of INSERTs",
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--xlsx", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--upload-dir", default=None, help=argparse.SUPPRESS)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = ap.parse_args(argv)
    if args.quick:
        args.contacts = min(args.contacts, 10_000)
        argv = [a for a in argv if a != "--quick"] + ["--contacts", str(args.contacts)]
    if args.child:
        child(args)
        return {}
    workdir = tempfile.mkdtemp(prefix="relay-bench-")
    extra = ["--upload-dir", workdir]
    if args.import_xlsx:
        path = os.path.join(workdir, "book.xlsx")
        write_xlsx(path, args.contacts)  # in the parent: the child's RSS is import + planning
        extra += ["--xlsx", path]
    os.environ.setdefault("RELAY_BENCH_DATABASE_URL", DEFAULT_DB)
    from bench._services import bench_database_url

    db_url = bench_database_url()  # dropped and created afresh
    redis_url = os.environ.get(
        "RELAY_BENCH_CAMPAIGN_REDIS_URL", os.environ.get("RELAY_BENCH_REDIS_URL", DEFAULT_REDIS)
    )
    env = dict(
        os.environ,
        RELAY_DATABASE_URL=db_url,
        RELAY_REDIS_URL=redis_url,
        RELAY_SECRET_KEY="bench",
        RELAY_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    load_before = os.getloadavg()
    out = subprocess.run(
        [sys.executable, __file__, "--child", *argv, *extra],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if out.returncode != 0:
        sys.exit(out.stderr)
    shutil.rmtree(workdir, ignore_errors=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    p = r["progress"]
    print(f"machine: {machine()}; load average before/after: {load_before} / {os.getloadavg()}")
    print(f"database: {db_url.split('@')[-1]}, redis: {redis_url}")
    print(
        f"book: {args.contacts:,} contacts, {args.consented:.0%} consented, pace {args.pace} "
        f"(messages per minutes); setup (not timed): {r['setup_s']:.1f} s"
    )
    if "import_s" in r:
        print(
            f"import of the .xlsx book (upload path, inline): {r['import_s']:.1f} s, "
            f"{r['import']}; RSS after import: {r['rss_after_import_mb']:.0f} MB"
        )
    rate = args.contacts / r["plan_s"]
    print(
        f"start (admission + planning, policy for every recipient): {r['plan_s']:.1f} s "
        f"= {rate:,.0f} recipients/s ({r['plan_cpu_s']:.1f} s CPU in this process)"
    )
    if "import_s" in r:
        print(f"import + planning: {r['import_s'] + r['plan_s']:.1f} s")
    print(
        f"planned {p['planned']:,}: accepted {p['accepted']:,}, deferred {p['deferred']:,}, "
        f"blocked {p['blocked']}; delivery jobs enqueued: {r['jobs']}"
    )
    print(f"peak RSS of the measured process: {r['peak_rss_mb']:.0f} MB")
    result = {
        "bench": "campaign_plan",
        "machine": machine(),
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "settings": {"contacts": args.contacts, "consented": args.consented, "pace": args.pace},
        "recipients_per_s": round(rate, 1),
        "plan_s": round(r["plan_s"], 2),
        "plan_cpu_s": round(r["plan_cpu_s"], 2),
        "peak_rss_mb": round(r["peak_rss_mb"], 1),
        "progress": p,
        "jobs": r["jobs"],
        **({"import_s": round(r["import_s"], 2)} if "import_s" in r else {}),
    }
    print(json.dumps(result, ensure_ascii=False))
    print(
        f"campaign_plan: {args.contacts:,} recipients planned at {rate:,.0f}/s, peak RSS "
        f"{r['peak_rss_mb']:.0f} MB; load {load_before[0]:.1f}→{os.getloadavg()[0]:.1f}"
    )
    return result


if __name__ == "__main__":
    main()
