"""The row side of an import: column layout from a header row, the per-row report, and the
base class each kind (address book, stop-list, consent) fills in.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from relay.adapters.tabular import cell_text
from relay.errors import RelayError
from relay.storage.models import ImportJob, Tenant
from relay.tenancy.settings import merged_settings
from shared.phones import PhoneError, normalize_phone

REPORT_LIMIT = 1_000  # bad rows listed in a report; the rest are only counted
MAX_VALUE = 1_000  # characters kept of one custom field
_SPACES = re.compile(r"\s+")
_PHONE_LIKE = re.compile(r"\A\+?[\d\s().\-\u00a0]{7,32}\Z")

PHONE_HEADERS = (
    "phone",
    "телефон",
    "номер",
    "номер телефона",
    "phone number",
    "tel",
    "mobile",
    "msisdn",
    "мобильный",
    "мобильный телефон",
    "тел",
    "тел.",
)

# Reasons a row is refused (the report's `reason`)
EMPTY = "empty"
DUPLICATE = "duplicate_in_file"


def header_key(text: str) -> str:
    """A header cell compared loosely: case, ё/е, spaces and a trailing ':' or '*' ignored."""
    key = _SPACES.sub(" ", text.lower().replace("ё", "е")).strip().rstrip(":*").strip()
    return key


@dataclass(frozen=True)
class Layout:
    """Which column holds which role, the other labelled columns, and whether row 1 is a header."""

    roles: dict[str, int]
    extras: tuple[tuple[int, str], ...] = ()
    header: bool = True

    def get(self, cells: list[Any], role: str) -> Any:
        """The raw cell of `role` in this row, or None when the file has no such column."""
        index = self.roles.get(role)
        if index is None or index >= len(cells):
            return None
        return cells[index]


def _extra_labels(cells: list[Any], used: set[int]) -> tuple[tuple[int, str], ...]:
    labels: list[tuple[int, str]] = []
    taken: set[str] = set()
    for index, value in enumerate(cells):
        if index in used:
            continue
        label = cell_text(value)[:100] or f"column_{index + 1}"
        base, n = label, 2
        while label in taken:  # two columns called "Комментарий" keep both values
            label, n = f"{base} ({n})", n + 1
        taken.add(label)
        labels.append((index, label))
    return tuple(labels)


@dataclass
class RowReport:
    """Refused rows: every one counted by reason, the first REPORT_LIMIT listed."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    by_reason: Counter[str] = field(default_factory=Counter)
    count: int = 0

    def reject(self, row: int, value: Any, reason: str, detail: str | None = None) -> None:
        """Record one refused row."""
        self.count += 1
        self.by_reason[reason] += 1
        if len(self.rows) < REPORT_LIMIT:
            entry: dict[str, Any] = {"row": row, "value": cell_text(value)[:100], "reason": reason}
            if detail:
                entry["detail"] = detail
            self.rows.append(entry)

    def as_json(self, **extra: Any) -> dict[str, Any]:
        """What ImportJob.report stores."""
        return {
            "rows": self.rows,
            "by_reason": dict(self.by_reason),
            "truncated": self.count > len(self.rows),
            **extra,
        }


class Importer:
    """One kind of import. Subclasses name their columns and turn a row into an insertable dict.

    `take` validates one row (refusing it into the report, or returning a dict), `write`
    inserts a chunk, `finish` completes the import (audit, status) and `abort` undoes what the
    request created when a background import fails. All of it runs in the caller's transaction.
    """

    kind: ClassVar[str]
    roles: ClassVar[dict[str, tuple[str, ...]]]  # role → header spellings (header_key form)
    headerless: ClassVar[dict[str, int]] = {"phone": 0}  # layout of a file without a header

    def __init__(
        self,
        session: Session,
        tenant: Tenant,
        job: ImportJob,
        options: dict[str, Any],
        now: datetime,
    ) -> None:
        self.session = session
        self.tenant = tenant
        self.job = job
        self.options = options
        self.now = now
        self.layout = Layout(roles=dict(self.headerless), header=False)
        self.supported = frozenset(merged_settings(tenant)["supported_regions"])
        self.seen: set[Any] = set()

    @classmethod
    def detect_layout(cls, cells: list[Any]) -> Layout:
        """Find the columns from the first non-empty row, or refuse the file (422).

        A row naming a phone column is a header. A row whose first cell is a phone number is
        data in the headerless layout (a plain list of numbers is a common stop-list file).
        """
        keys = [header_key(cell_text(c)) for c in cells]
        found: dict[str, int] = {}
        for index, key in enumerate(keys):
            for role, spellings in cls.roles.items():
                if role not in found and key in spellings:
                    found[role] = index
                    break
        if "phone" in found:
            return Layout(roles=found, extras=_extra_labels(cells, set(found.values())))
        first = cell_text(cells[0]) if cells else ""
        if _PHONE_LIKE.match(first):
            used = set(cls.headerless.values())
            extras = tuple((i, f"column_{i + 1}") for i in range(len(cells)) if i not in used)
            return Layout(roles=dict(cls.headerless), extras=extras, header=False)
        names = ", ".join(repr(s) for s in cls.roles["phone"][:3])
        raise RelayError(
            "missing_phone_column",
            f"no phone column found in the first row: name it {names}",
            422,
            {"file": ["the first row must be a header with a phone column"]},
        )

    def phone(self, row: int, raw: Any, report: RowReport) -> str | None:
        """The row's number in E.164, or None with the reason in the report."""
        text = cell_text(raw)
        if not text:
            report.reject(row, raw, EMPTY, "no phone number in this row")
            return None
        try:
            return normalize_phone(text, self.tenant.region, self.supported)
        except PhoneError as exc:
            report.reject(row, raw, exc.code)
            return None

    def first_time(self, row: int, key: Any, shown: Any, report: RowReport) -> bool:
        """False (and a duplicate_in_file refusal) when `key` was already taken in this file."""
        if key in self.seen:
            report.reject(row, shown, DUPLICATE)
            return False
        self.seen.add(key)
        return True

    def extras(self, cells: list[Any]) -> dict[str, str]:
        """The unnamed columns as custom fields (empty cells left out)."""
        out: dict[str, str] = {}
        for index, label in self.layout.extras:
            if index < len(cells):
                value = cell_text(cells[index])
                if value:
                    out[label] = value[:MAX_VALUE]
        return out

    def begin(self) -> None:
        """Check the import can start (e.g. its book still exists); RelayError if not."""

    def insert_rows(self, model: Any, rows: list[dict[str, Any]]) -> None:
        """One executemany per chunk, in the session's transaction.

        Core, not the ORM's bulk insert: the ORM leaves out None values and splits a chunk into
        a new statement wherever the set of present columns changes (a missing birthday), which
        turned 1,000 rows into hundreds of round trips.
        """
        self.session.connection().execute(model.__table__.insert(), rows)

    def take(self, row: int, cells: list[Any], report: RowReport) -> dict[str, Any] | None:
        """Validate one data row: a dict to insert, or None (refused into the report)."""
        raise NotImplementedError

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Insert one chunk of accepted rows."""
        raise NotImplementedError

    def finish(self, report: RowReport) -> None:
        """Complete the import in the same transaction (audit entry, book status …)."""

    def abort(self) -> None:
        """Undo what the request created for a background import that failed."""

    def summary(self) -> dict[str, Any]:
        """Kind-specific figures added to the report (e.g. numbers already listed)."""
        return {}
