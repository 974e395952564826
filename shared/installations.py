"""The installation store: a connector's tokens, secrets and settings, per tenant.

See docs/architecture.md, 'Connectors'. The relay implements `InstallationStore` on its database and
hands it to each connector when it mounts it; connectors only see this protocol.
`MemoryInstallationStore` is the small reference implementation used in connector tests.
"""

from __future__ import annotations

import copy
import re
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

from shared.checks import check_text

# Suggested statuses; stores accept any snake_case word so a connector can add its own.
INSTALLATION_STATUSES = ("active", "disabled", "uninstalled")
_STATUS_RE = re.compile(r"\A[a-z][a-z0-9_]{0,31}\Z")


@dataclass(frozen=True)
class Installation:
    """One connector installed for one tenant on one platform account (portal, shop …).

    `secrets` (tokens, webhook secrets) is kept out of repr so it never lands in a log.
    """

    tenant_id: str
    platform: str
    account: str
    settings: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict, repr=False)
    status: str = "active"

    def __post_init__(self) -> None:
        check_text("tenant_id", self.tenant_id, required=True, max_len=64)
        check_text("platform", self.platform, required=True, max_len=64)
        check_text("account", self.account, required=True)
        for name in ("settings", "secrets"):
            value = getattr(self, name)
            if not isinstance(value, dict):
                raise ValueError(f"{name} must be a dict, got {type(value).__name__!r}")
        if not isinstance(self.status, str) or not _STATUS_RE.fullmatch(self.status):
            raise ValueError(f"status must be a snake_case word, got {self.status!r}")


@runtime_checkable
class InstallationStore(Protocol):
    """Where installations live. Keyed by (platform, account); a tenant may have several."""

    def get(self, platform: str, account: str) -> Installation | None:
        """The installation for a platform account, or None."""
        ...

    def get_for_tenant(self, tenant_id: str, platform: str) -> Installation | None:
        """The tenant's installation on `platform` (the latest saved if several), or None."""
        ...

    def save(self, installation: Installation) -> Installation:
        """Insert or replace by (platform, account); return what is now stored."""
        ...

    def update_secrets(
        self,
        platform: str,
        account: str,
        secrets: dict[str, Any],
        expected: dict[str, Any] | None = None,
    ) -> bool:
        """Merge `secrets` into the stored ones, atomically, if the stored ones hold `expected`.

        Compare-and-set for refresh-token rotation: pass the refresh token you used as
        `expected`; False means another worker rotated it first (reload and use theirs).
        `expected=None` writes unconditionally. Raises KeyError for an unknown installation.
        """
        ...

    def set_status(self, platform: str, account: str, status: str) -> None:
        """Change the status; raises KeyError for an unknown installation."""
        ...


class MemoryInstallationStore:
    """In-memory InstallationStore for tests. Thread-safe; hands out deep copies only."""

    def __init__(self, installations: list[Installation] | None = None) -> None:
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, str], Installation] = {}
        for installation in installations or []:
            self.save(installation)

    @staticmethod
    def _copy(installation: Installation) -> Installation:
        # Deep copies: a caller mutating its dicts must not change what is stored.
        return replace(
            installation,
            settings=copy.deepcopy(installation.settings),
            secrets=copy.deepcopy(installation.secrets),
        )

    def get(self, platform: str, account: str) -> Installation | None:
        """The installation for a platform account, or None."""
        with self._lock:
            found = self._rows.get((platform, account))
            return self._copy(found) if found else None

    def get_for_tenant(self, tenant_id: str, platform: str) -> Installation | None:
        """The tenant's installation on `platform` (the latest saved if several), or None."""
        with self._lock:
            # dicts keep insertion order and save() re-inserts, so the last match is the latest.
            matches = [
                row
                for row in self._rows.values()
                if row.tenant_id == tenant_id and row.platform == platform
            ]
            return self._copy(matches[-1]) if matches else None

    def save(self, installation: Installation) -> Installation:
        """Insert or replace by (platform, account); return what is now stored."""
        if not isinstance(installation, Installation):
            raise ValueError(f"expected an Installation, got {installation!r}")
        key = (installation.platform, installation.account)
        with self._lock:
            self._rows.pop(key, None)
            self._rows[key] = self._copy(installation)
            return self._copy(self._rows[key])

    def update_secrets(
        self,
        platform: str,
        account: str,
        secrets: dict[str, Any],
        expected: dict[str, Any] | None = None,
    ) -> bool:
        """Merge `secrets` in if the stored secrets hold every `expected` item; else False."""
        if not isinstance(secrets, dict):
            raise ValueError(f"secrets must be a dict, got {type(secrets).__name__!r}")
        with self._lock:
            row = self._rows.get((platform, account))
            if row is None:
                raise KeyError((platform, account))
            current = row.secrets
            if expected and any(
                key not in current or current[key] != value for key, value in expected.items()
            ):
                return False
            merged = {**copy.deepcopy(current), **copy.deepcopy(secrets)}
            self._rows[(platform, account)] = replace(row, secrets=merged)
            return True

    def set_status(self, platform: str, account: str, status: str) -> None:
        """Change the status; raises KeyError for an unknown installation."""
        with self._lock:
            row = self._rows.get((platform, account))
            if row is None:
                raise KeyError((platform, account))
            self._rows[(platform, account)] = replace(row, status=status)  # validates status
