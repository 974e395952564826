"""People who use the web cabinet: users with a role in a tenant, invitations, and the
verification codes sent to their phones. API keys (relay/storage/tenancy.py) stay for machines.

Nothing secret is stored as is: passwords as argon2 hashes, invitation tokens as SHA-256,
verification codes as a keyed HMAC (a 6-digit code has too few values for a plain hash).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from relay.storage.base import Base
from relay.storage.types import UTCDateTime, new_id, utcnow

ROLES = ("owner", "manager", "viewer")


class User(Base):
    """A person (or a platform's single-sign-on identity) with a role in one tenant.

    `phone` is the login (E.164, one account per number); platform users (`platform` set,
    signed in only through a connector's single-sign-on link) have neither phone nor password.
    `session_version` is part of every login session: raising it signs the user out everywhere.
    """

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "platform"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # owner | manager | viewer
    password_hash: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[str | None] = mapped_column(String(32))  # bitrix24 | amocrm | woocommerce
    locale: Mapped[str | None] = mapped_column(String(8))  # None: the tenant's default
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | disabled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Invitation(Base):
    """A link an owner made for someone to join the tenant with a role; used once."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))  # whom it is for, as the owner wrote
    invited_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VerificationCode(Base):
    """A 6-digit code sent by SMS to prove a phone number (sign-up, invitation, reset).

    Only a keyed hash is kept; `attempts` counts wrong guesses, and after the third the number
    waits until `locked_until` before it may ask for another code. `message_id` is the system
    tenant's message that carried it (its text is masked once the code is spent).
    """

    __tablename__ = "verification_codes"
    __table_args__ = (Index("ix_verification_codes_phone", "phone", "purpose", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(16))  # signup | invite | reset
    tenant_id: Mapped[str | None] = mapped_column(String(32))  # the tenant it is for, if known
    salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(32))
