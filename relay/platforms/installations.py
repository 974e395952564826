"""The relay's implementations of the connector-facing interfaces in `shared.connector`:
installations (secrets encrypted at rest), tenants, and the durable inbox."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from relay.content.flowdefs import default_flows, load_flows
from relay.intake.spool import admit
from relay.runtime import Runtime
from relay.storage.dml import affected_rows
from relay.storage.models import ConnectorInbox, Tenant, WritebackClaim
from relay.storage.models import Installation as InstallationRow
from relay.storage.types import utcnow
from relay.tenancy.tenants import create_tenant, forget_cached_keys
from shared.connector import InboxRecord
from shared.installations import Installation

# (platform, account) → (monotonic time, installation) as last read from the database: while
# it is unreachable a webhook is still verified against the secret read at most
# RELAY_SPOOL_TRUST_SECONDS ago, so it can wait in the intake spool (relay/intake/spool.py)
_REMEMBERED: dict[tuple[str, str], tuple[float, Installation]] = {}
_MEMORY_LOCK = threading.Lock()


class DbInstallationStore:
    """InstallationStore on the `installations` table; secrets sealed with RELAY_SECRET_KEY."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        # shared by every store of the process, so `remember_all` warms them all
        self._remembered = _REMEMBERED
        self._memory_lock = _MEMORY_LOCK

    def _to_installation(self, row: InstallationRow) -> Installation:
        return Installation(
            tenant_id=row.tenant_id,
            platform=row.platform,
            account=row.account,
            settings=dict(row.settings or {}),
            secrets=self.rt.secrets.open(row.secrets_encrypted),
            status=row.status,
        )

    def get(self, platform: str, account: str) -> Installation | None:
        """The installation of a platform account, or None; while the database cannot be
        reached, the copy read within the trust period (else the database's error)."""
        try:
            with self.rt.session() as s:
                row = s.scalar(
                    select(InstallationRow).where(
                        InstallationRow.platform == platform, InstallationRow.account == account
                    )
                )
                found = self._to_installation(row) if row else None
        except (OperationalError, InterfaceError):
            return self._recalled(platform, account)
        with self._memory_lock:
            if found is None:
                self._remembered.pop((platform, account), None)
            else:
                if len(self._remembered) > 10000:
                    self._remembered.clear()
                self._remembered[(platform, account)] = (time.monotonic(), found)
        return found

    def remember_all(self, limit: int = 10000) -> int:
        """Read the installations now, so that while the database is away this process
        verifies any store's webhooks, not only those of stores it happened to serve."""
        with self.rt.session() as s:
            rows = s.scalars(select(InstallationRow).limit(limit)).all()
            found = [self._to_installation(row) for row in rows]
        now = time.monotonic()
        with self._memory_lock:
            for inst in found:
                self._remembered[(inst.platform, inst.account)] = (now, inst)
        return len(found)

    def _recalled(self, platform: str, account: str) -> Installation:
        with self._memory_lock:
            hit = self._remembered.get((platform, account))
        trust = float(self.rt.config.get("SPOOL_TRUST_SECONDS") or 0)
        if hit is None or time.monotonic() - hit[0] >= trust:
            raise OperationalError(
                "installation lookup", {}, Exception("the database is unreachable")
            )
        return hit[1]

    def get_for_tenant(self, tenant_id: str, platform: str) -> Installation | None:
        """The tenant's latest installation on a platform."""
        with self.rt.session() as s:
            row = s.scalar(
                select(InstallationRow)
                .where(InstallationRow.tenant_id == tenant_id, InstallationRow.platform == platform)
                .order_by(InstallationRow.updated_at.desc(), InstallationRow.id.desc())
                .limit(1)
            )
            return self._to_installation(row) if row else None

    def save(self, installation: Installation) -> Installation:
        """Insert or replace by (platform, account)."""
        with self.rt.session() as s:
            row = s.scalar(
                select(InstallationRow).where(
                    InstallationRow.platform == installation.platform,
                    InstallationRow.account == installation.account,
                )
            )
            if row is None:
                row = InstallationRow(platform=installation.platform, account=installation.account)
                s.add(row)
            row.tenant_id = installation.tenant_id
            row.settings = dict(installation.settings)
            row.secrets_encrypted = self.rt.secrets.seal(dict(installation.secrets))
            row.status = installation.status
            row.updated_at = utcnow()
            s.commit()
            return self._to_installation(row)

    def update_secrets(
        self,
        platform: str,
        account: str,
        secrets: dict[str, Any],
        expected: dict[str, Any] | None = None,
    ) -> bool:
        """Compare-and-set merge of secrets, atomic across processes.

        The row is updated only if its encrypted blob is still the one we read (optimistic
        concurrency on the ciphertext), so two workers rotating a refresh token cannot both win.
        """
        with self.rt.session() as s:
            row = s.scalar(
                select(InstallationRow).where(
                    InstallationRow.platform == platform, InstallationRow.account == account
                )
            )
            if row is None:
                raise KeyError((platform, account))
            current = self.rt.secrets.open(row.secrets_encrypted)
            if expected and any(current.get(k) != v for k, v in expected.items()):
                return False
            merged = {**current, **secrets}
            done = affected_rows(
                s,
                update(InstallationRow)
                .where(
                    InstallationRow.id == row.id,
                    InstallationRow.secrets_encrypted == row.secrets_encrypted,
                )
                .values(secrets_encrypted=self.rt.secrets.seal(merged), updated_at=utcnow()),
            )
            s.commit()
            return bool(done)

    def set_status(self, platform: str, account: str, status: str) -> None:
        """Change an installation's status."""
        with self.rt.session() as s:
            done = affected_rows(
                s,
                update(InstallationRow)
                .where(InstallationRow.platform == platform, InstallationRow.account == account)
                .values(status=status, updated_at=utcnow()),
            )
            s.commit()
            if not done:
                raise KeyError((platform, account))


class DbTenantDirectory:
    """TenantDirectory on the tenants table."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def ensure_tenant(
        self, platform: str, account: str, name: str, region: str, timezone: str | None = None
    ) -> str:
        """The tenant linked to a platform account; created (with default flows) if missing."""
        with self.rt.session() as s:
            row = s.scalar(
                select(InstallationRow.tenant_id).where(
                    InstallationRow.platform == platform, InstallationRow.account == account
                )
            )
            if row:
                return row
            base = f"{platform}:{account}"
            existing = s.scalar(select(Tenant).where(Tenant.name == base))
            if existing is not None:
                return existing.id
            tenant = create_tenant(s, base, region, timezone, {"display_name": name})
            load_flows(s, tenant, default_flows())
            s.commit()
            return tenant.id

    def set_tenant_status(self, tenant_id: str, status: str) -> None:
        """Disable, re-enable or flag a tenant (visible to the operator)."""
        with self.rt.session() as s:
            s.execute(update(Tenant).where(Tenant.id == tenant_id).values(status=status))
            s.commit()
        forget_cached_keys()

    def load_flows(self, tenant_id: str, document: dict[str, Any]) -> None:
        """Install or update the tenant's templates and flows."""
        with self.rt.session() as s:
            tenant = s.get(Tenant, tenant_id)
            if tenant is None:
                raise KeyError(tenant_id)
            load_flows(s, tenant, document)
            s.commit()


class DbInbox:
    """The durable connector inbox on the `connector_inbox` table."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    @staticmethod
    def _record(row: ConnectorInbox) -> InboxRecord:
        return InboxRecord(
            id=row.id,
            platform=row.platform,
            account=row.account,
            kind=row.kind,
            payload=row.payload,
            status=row.status,
            detail=row.detail,
            dedupe_key=row.dedupe_key,
        )

    def record(
        self,
        platform: str,
        account: str,
        kind: str,
        payload: dict[str, Any],
        dedupe_key: str | None = None,
    ) -> InboxRecord | None:
        """Store a payload once per (platform, dedupe_key)."""
        # the connector verified the webhook before recording it: if the database fails now,
        # the request may wait in the intake spool and be replayed (relay/intake/spool.py)
        admit()
        with self.rt.session() as s:
            row = ConnectorInbox(
                platform=platform,
                account=account,
                kind=kind,
                payload=payload,
                dedupe_key=dedupe_key,
                status="received",
                received_at=self.rt.now(),
            )
            s.add(row)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                return None
            return self._record(row)

    def load(self, record_id: int) -> InboxRecord | None:
        """A record by id."""
        with self.rt.session() as s:
            row = s.get(ConnectorInbox, record_id)
            return self._record(row) if row else None

    def finish(self, record_id: int, status: str, detail: str | None = None) -> None:
        """Close a record with its outcome."""
        now: datetime = self.rt.now()
        with self.rt.session() as s:
            s.execute(
                update(ConnectorInbox)
                .where(ConnectorInbox.id == record_id)
                .values(status=status, detail=(detail or "")[:2000] or None, finished_at=now)
            )
            s.commit()


class DbClaimStore:
    """ClaimStore on `writeback_claims`: each call is its own short transaction, so a claim is
    visible to every other worker the moment it is made.

    claim: INSERT the key (the primary key makes exactly one inserter win); if it exists, take
    it over only when it was released or its lease ran out (a worker died mid-call), with one
    conditional UPDATE, so two workers racing for a stale claim still get one winner.
    """

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def claim(self, key: str, lease_seconds: float = 300.0) -> bool:
        """True when this caller now owns `key`."""
        now = utcnow()
        with self.rt.session() as s:
            try:
                s.add(WritebackClaim(key=key[:255], status="claimed", claimed_at=now))
                s.commit()
                return True
            except IntegrityError:
                s.rollback()
            stale = now - timedelta(seconds=lease_seconds)
            taken = s.execute(
                update(WritebackClaim)
                .where(
                    WritebackClaim.key == key[:255],
                    or_(
                        WritebackClaim.status == "released",
                        and_(WritebackClaim.status == "claimed", WritebackClaim.claimed_at < stale),
                    ),
                )
                .values(status="claimed", claimed_at=now, finished_at=None)
            )
            s.commit()
            return bool(taken.rowcount)  # type: ignore[attr-defined]

    def _finish(self, key: str, status: str) -> None:
        with self.rt.session() as s:
            s.execute(
                update(WritebackClaim)
                .where(WritebackClaim.key == key[:255], WritebackClaim.status == "claimed")
                .values(status=status, finished_at=utcnow())
            )
            s.commit()

    def complete(self, key: str) -> None:
        """The call was made: never again."""
        self._finish(key, "done")

    def release(self, key: str) -> None:
        """The call failed before reaching the platform: the next attempt may claim it."""
        self._finish(key, "released")
