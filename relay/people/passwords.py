"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from relay.errors import RelayError

MIN_LENGTH = 8
MAX_LENGTH = 200

_HASHER = PasswordHasher()
# verified against when there is no such user, so a wrong phone costs as long as a wrong password
_DUMMY = _HASHER.hash("relay-no-such-user")


def check_new_password(password: str | None) -> str:
    """The password if it may be set; RelayError `weak_password` otherwise."""
    password = password or ""
    if len(password) < MIN_LENGTH or len(password) > MAX_LENGTH:
        raise RelayError(
            "weak_password",
            f"a password needs {MIN_LENGTH} to {MAX_LENGTH} characters",
            422,
            {"password": [f"{MIN_LENGTH}–{MAX_LENGTH} characters"]},
        )
    return password


def hash_password(password: str) -> str:
    """The stored form of a password."""
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored`; runs a full verification even without a hash."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with older parameters."""
    return _HASHER.check_needs_rehash(stored)
