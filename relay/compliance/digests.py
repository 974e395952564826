"""Daily signed digests of the chains, and verifying everything.

The key: an Ed25519 key derived from RELAY_SECRET_KEY (HKDF-SHA256, info "relay ledger digest
v1"). Ed25519 rather than an HMAC because a digest is meant to be published: anyone holding the
public key (`relay compliance public-key`, `GET /v1/compliance/digests`) can check a signature,
and nobody can make one without the relay's secret. Derived rather than stored, so there is no
second secret to back up or to leak; rotating RELAY_SECRET_KEY changes the key, and each digest
names the key (`key_id`) it was signed with.

A digest is a chain's head (seq, hash) on a day, signed. `verify_all` recomputes every chain
and checks every digest against it: a chain edited and then re-hashed from the start by someone
with database access still disagrees with the digests signed before.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.compliance.chain import Problem, Report, chain_keys, lock_head, verify
from relay.storage.models import LedgerDigest

INFO = b"relay ledger digest v1"


def signing_key(secret: str) -> Ed25519PrivateKey:
    """The relay's digest key, derived from its secret."""
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_hex(secret: str) -> str:
    """The public half, raw 32 bytes as hex: what a verifier needs."""
    raw = (
        signing_key(secret)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return raw.hex()


def key_id(public_hex: str) -> str:
    """A short name of a public key."""
    return hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:16]


def payload(tenant_key: str, day: str, seq: int, hash_: str) -> bytes:
    """What is signed."""
    body = {"chain": tenant_key, "day": day, "seq": seq, "hash": hash_}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def digest_dict(row: LedgerDigest, public_hex: str | None = None) -> dict[str, Any]:
    """A digest as published."""
    out = {
        "chain": row.tenant_key,
        "day": row.day,
        "seq": row.seq,
        "hash": row.hash,
        "key_id": row.key_id,
        "signature": row.signature,
        "signed": payload(row.tenant_key, row.day, row.seq, row.hash).decode(),
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }
    if public_hex:
        out["public_key"] = public_hex
    return out


def make_digests(
    session: Session, secret: str, now: datetime, only: str | None = None
) -> list[LedgerDigest]:
    """Sign today's head of every chain (or of one) that has no digest for today yet."""
    day = now.date().isoformat()
    key = signing_key(secret)
    kid = key_id(public_key_hex(secret))
    made = []
    for chain in [only] if only else chain_keys(session):
        exists = session.scalar(
            select(LedgerDigest.id).where(LedgerDigest.tenant_key == chain, LedgerDigest.day == day)
        )
        if exists:
            continue
        seq, hash_ = lock_head(session, chain, now)
        row = LedgerDigest(
            tenant_key=chain,
            day=day,
            seq=seq,
            hash=hash_,
            key_id=kid,
            signature=key.sign(payload(chain, day, seq, hash_)).hex(),
            created_at=now,
        )
        session.add(row)
        session.flush()
        made.append(row)
    return made


def check_signature(public_hex: str, row: LedgerDigest) -> bool:
    """True when the digest was signed by the key `public_hex` names."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(
            bytes.fromhex(row.signature), payload(row.tenant_key, row.day, row.seq, row.hash)
        )
        return True
    except (InvalidSignature, ValueError):
        return False


def verify_chain(session: Session, chain: str, secret: str) -> Report:
    """Recompute one chain and check its digests against it."""
    report = verify(session, chain)
    if not report.ok:
        return report
    public_hex = public_key_hex(secret)
    kid = key_id(public_hex)
    digests = session.scalars(
        select(LedgerDigest).where(LedgerDigest.tenant_key == chain).order_by(LedgerDigest.day)
    ).all()
    for row in digests:
        report.digests_checked += 1
        if row.key_id == kid and not check_signature(public_hex, row):
            report.problem = Problem(
                "edited",
                "ledger_digests",
                row.id,
                row.seq,
                f"the digest of {row.day} does not carry a valid signature",
            )
            return report
        if row.seq == 0:
            continue
        if report.links.get(row.seq) != row.hash:
            report.problem = Problem(
                "edited",
                None,
                None,
                row.seq,
                f"the chain up to {row.seq} differs from the one signed on {row.day}: "
                "records before it were changed and re-hashed",
            )
            return report
    return report


def verify_all(session: Session, secret: str, tenant: str | None = None) -> list[Report]:
    """Verify every chain (or one tenant's). A tenant with no records passes."""
    chains = [tenant] if tenant else chain_keys(session)
    return [verify_chain(session, chain, secret) for chain in chains]
