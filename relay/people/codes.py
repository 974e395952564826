"""Verification codes: 6 digits sent by SMS through the system tenant, kept only as a keyed
hash, valid 10 minutes, used once; limited per number, per IP and per tenant, and after three
wrong guesses the number waits before it may ask again.

`request_code` and `check_code` change rows in the caller's session and leave the commit to
the caller; the commit queues the code's message (the session's outbox: rows first, queue
second, as everywhere in the relay), then the caller calls `dispatch_after_commit`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from relay.adapters.attempts import attempt_gate
from relay.errors import RelayError
from relay.people.system import mask_codes_in_message, send_system_text
from relay.storage.models import VerificationCode

PURPOSES = ("signup", "invite", "reset")
CODE_DIGITS = 6
VALID_FOR = timedelta(minutes=10)
MAX_WRONG = 3
WAIT_AFTER_WRONG = timedelta(minutes=15)
MASK_JOB = "relay.jobs.mask_code"

# (what is limited, rates): every rule must have room; overridable with config CODE_RATES
DEFAULT_RATES: dict[str, tuple[str, ...]] = {
    "phone": ("3 per 10 minutes", "10 per day"),
    "ip": ("10 per hour", "30 per day"),
    "tenant": ("30 per hour",),
    "signup": ("200 per hour",),  # all sign-ups together: a pumping burst stops here
}

TEXTS = {
    "ru": "Код подтверждения: {code}. Никому его не сообщайте.",
    "en": "Your verification code: {code}. Do not share it with anyone.",
}


@dataclass
class CodeSent:
    """A code was made (and, unless `status` is blocked, will be sent)."""

    code_id: int
    expires_at: datetime
    status: str  # the message's status: queued, scheduled or blocked
    reason: str | None
    message_id: str

    @property
    def sent(self) -> bool:
        return self.status != "blocked"


@dataclass
class CodeCheck:
    """The outcome of checking a code: ok, wrong, expired (or none asked for), locked."""

    outcome: str
    attempts_left: int = 0
    locked_until: datetime | None = None
    code_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def _key(secret: str) -> bytes:
    return hashlib.sha256(b"relay-verification-code\x00" + secret.encode()).digest()


def _digest(secret: str, salt: str, phone: str, purpose: str, code: str) -> str:
    msg = f"{salt}:{phone}:{purpose}:{code}".encode()
    return hmac.new(_key(secret), msg, hashlib.sha256).hexdigest()


def _phone_key(secret: str, phone: str) -> str:
    # rate-limit keys name the number by a keyed digest, never as is
    return hmac.new(_key(secret), phone.encode(), hashlib.sha256).hexdigest()[:24]


def rules(rt: Any, phone: str, ip: str | None, tenant_id: str | None) -> list[tuple[str, str]]:
    """The limits a code request is counted under."""
    rates = {**DEFAULT_RATES, **(rt.config.get("CODE_RATES") or {})}
    out = [(f"code:phone:{_phone_key(rt.config['SECRET_KEY'], phone)}", r) for r in rates["phone"]]
    if ip:
        out += [(f"code:ip:{ip}", r) for r in rates["ip"]]
    if tenant_id:
        out += [(f"code:tenant:{tenant_id}", r) for r in rates["tenant"]]
    else:
        out += [("code:signup", r) for r in rates["signup"]]
    return out


def _latest(session: Session, phone: str, purpose: str) -> VerificationCode | None:
    return session.scalar(
        select(VerificationCode)
        .where(VerificationCode.phone == phone, VerificationCode.purpose == purpose)
        .order_by(VerificationCode.created_at.desc(), VerificationCode.id.desc())
        .limit(1)
    )


def lock_of(session: Session, phone: str, purpose: str, now: datetime) -> datetime | None:
    """Until when the number must wait after three wrong codes, or None."""
    last = _latest(session, phone, purpose)
    if last is not None and last.locked_until is not None and last.locked_until > now:
        return last.locked_until
    return None


def request_code(
    rt: Any,
    session: Session,
    phone: str,
    purpose: str,
    now: datetime,
    *,
    ip: str | None = None,
    tenant_id: str | None = None,
    locale: str = "ru",
) -> CodeSent:
    """Make a code for `phone` (already checked by `relay.people.numbers.login_phone`) and
    submit its SMS through the system tenant. RelayError `code_locked` (wait after three wrong
    codes) or `too_many_codes` (a limit has no room), both 429 with `retry_after` seconds."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, got {purpose!r}")
    until = lock_of(session, phone, purpose, now)
    if until is not None:
        wait = max(1, int((until - now).total_seconds()))
        raise RelayError(
            "code_locked",
            "three wrong codes: wait before asking for a new one",
            429,
            {"retry_after": wait, "until": until.isoformat()},
        )
    gate = attempt_gate(rt.config["REDIS_URL"])
    limits = rules(rt, phone, ip, tenant_id)
    wait = gate.wait_seconds(limits, _epoch())
    if wait:
        raise RelayError(
            "too_many_codes", "too many codes asked for: try later", 429, {"retry_after": wait}
        )
    gate.hit(limits)
    # a new code replaces the live one and inherits its wrong guesses (no reset by resending)
    previous = _latest(session, phone, purpose)
    carried = 0
    if previous is not None and previous.used_at is None and previous.expires_at > now:
        carried = previous.attempts
        previous.expires_at = now
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    salt = secrets.token_hex(16)
    row = VerificationCode(
        phone=phone,
        purpose=purpose,
        tenant_id=tenant_id,
        salt=salt,
        code_hash=_digest(rt.config["SECRET_KEY"], salt, phone, purpose, code),
        attempts=carried,
        created_at=now,
        expires_at=now + VALID_FOR,
    )
    session.add(row)
    session.flush()
    text = TEXTS.get(locale, TEXTS["ru"]).format(code=code)
    summary = send_system_text(session, phone, text, f"code-{purpose}-{row.id}", now)
    row.message_id = summary["id"]
    if summary["status"] == "blocked":
        row.expires_at = now  # never sent: nothing to guess against
    return CodeSent(
        code_id=row.id,
        expires_at=row.expires_at,
        status=summary["status"],
        reason=summary.get("reason"),
        message_id=summary["id"],
    )


def dispatch_after_commit(rt: Any, sent: CodeSent) -> None:
    """After the commit (which queued the code's message through the session's outbox): the
    job that masks its text in the log once the code can no longer be used."""
    if sent.sent:
        from rq import Queue

        Queue(rt.config["QUEUE_NAME"], connection=rt.redis).enqueue_in(
            VALID_FOR + timedelta(minutes=1), MASK_JOB, sent.code_id, result_ttl=0
        )


def check_code(
    rt: Any, session: Session, phone: str, purpose: str, code: str | None, now: datetime
) -> CodeCheck:
    """Check `code` against the live code of `phone` for `purpose`; a right one is used up.
    The caller commits in every case (a wrong guess is counted even when the form fails)."""
    row = _latest(session, phone, purpose)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return CodeCheck("locked", 0, row.locked_until, row.id)
    if row is None or row.used_at is not None or row.expires_at <= now:
        return CodeCheck("expired")
    given = "".join(ch for ch in (code or "") if not ch.isspace())
    expected = row.code_hash
    actual = _digest(rt.config["SECRET_KEY"], row.salt, phone, purpose, given)
    if given.isdigit() and len(given) == CODE_DIGITS and hmac.compare_digest(expected, actual):
        # single use even when two requests race: only one UPDATE finds it unused
        done = session.execute(
            update(VerificationCode)
            .where(VerificationCode.id == row.id, VerificationCode.used_at.is_(None))
            .values(used_at=now)
        )
        if cast("CursorResult[Any]", done).rowcount != 1:
            return CodeCheck("expired")
        session.refresh(row)
        if row.message_id:
            mask_codes_in_message(session, row.message_id)
        return CodeCheck("ok", code_id=row.id)
    row.attempts += 1
    if row.attempts >= MAX_WRONG:
        row.locked_until = now + WAIT_AFTER_WRONG
        row.expires_at = now
        if row.message_id:
            mask_codes_in_message(session, row.message_id)
        return CodeCheck("locked", 0, row.locked_until, row.id)
    return CodeCheck("wrong", MAX_WRONG - row.attempts, None, row.id)


def mask_spent_code(session: Session, code_id: int) -> bool:
    """Mask the text of a code's message (the job run when the code has expired)."""
    row = session.get(VerificationCode, code_id)
    if row is None or not row.message_id:
        return False
    mask_codes_in_message(session, row.message_id)
    return True


def _epoch() -> float:
    import time

    return time.time()
