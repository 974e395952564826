"""WooCommerce webhook signatures and the creation ping.

WooCommerce signs every delivery with `X-WC-Webhook-Signature: base64(HMAC-SHA256(body,
secret))`, computed over the JSON text exactly as it was sent (WC_Webhook::generate_signature
after wp_json_encode). Verifying must therefore use the raw request bytes: a body parsed and
serialised again (other spacing, `/` unescaped, non-ASCII unescaped) has another signature.

When a webhook is saved, WooCommerce first POSTs a ping with the form body `webhook_id=<n>`
and no X-WC-* headers (WC_Webhook::deliver_ping); only an answer of exactly 200 lets the
store save the webhook.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
_PING_RE = re.compile(rb"\Awebhook_id=\d{1,20}\Z")


def sign(body: bytes, secret: str) -> str:
    """The signature WooCommerce sends for `body` (base64 of the raw HMAC-SHA256 digest)."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(body: bytes, header: str | None, secret: str) -> bool:
    """True when `header` is the signature of exactly these bytes; constant-time compare."""
    if not header or not secret:
        return False
    expected = sign(body, secret).encode("ascii")
    try:
        given = header.strip().encode("ascii")
    except UnicodeEncodeError:  # a base64 value is ASCII; anything else is simply wrong
        return False
    return hmac.compare_digest(expected, given)


def is_ping(body: bytes, has_signature: bool, topic: str | None) -> bool:
    """The unsigned `webhook_id=<n>` ping WooCommerce sends when a webhook is saved."""
    return not has_signature and not topic and bool(_PING_RE.match(body.strip()))
