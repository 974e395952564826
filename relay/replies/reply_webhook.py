"""Posting a reply to a tenant's own webhook, signed so the receiver can trust it.

Headers: `X-Relay-Timestamp` (Unix seconds) and `X-Relay-Signature` =
hex(HMAC-SHA256(secret, f"{timestamp}.{body}")). Receivers should recompute it over the raw
body, compare in constant time, and refuse timestamps older than five minutes (replay).
A non-2xx answer raises, and RQ retries the job with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import requests


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature of a body at a timestamp."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def post_webhook(url: str, secret: str, payload: dict[str, Any], timeout: float = 10.0) -> None:
    """POST the payload as JSON with the signature headers; raise on failure (for retry)."""
    body = json.dumps({"type": "reply", **payload}, ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    resp = requests.post(
        url,
        data=body,
        timeout=timeout,
        headers={
            "Content-Type": "application/json",
            "X-Relay-Timestamp": timestamp,
            "X-Relay-Signature": sign(secret, timestamp, body),
        },
    )
    resp.raise_for_status()
