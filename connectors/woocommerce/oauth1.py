"""OAuth 1.0a "one-legged" signing for WooCommerce stores served over plain HTTP.

WooCommerce accepts HTTP Basic auth (consumer key/secret) only over HTTPS; over HTTP it asks for
OAuth 1.0a with the consumer key alone (no token), the oauth_* parameters in the query string,
HMAC-SHA1 or HMAC-SHA256, signing key `consumer_secret + "&"`, a timestamp within 15 minutes
and a nonce it has not seen (WC_REST_Authentication::perform_oauth_authentication). The base
string is RFC 5849's: METHOD & enc(URL without query) & enc(sorted, encoded k=v pairs).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import quote, urlsplit, urlunsplit


def _enc(text: str) -> str:
    # RFC 3986 unreserved characters stay; everything else is %XX (PHP's rawurlencode).
    return quote(text, safe="~")


def base_string(method: str, url: str, params: dict[str, str]) -> str:
    """The RFC 5849 signature base string (params must not contain oauth_signature)."""
    parts = urlsplit(url)
    bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    pairs = sorted((_enc(k), _enc(v)) for k, v in params.items())
    normalised = "&".join(f"{k}={v}" for k, v in pairs)
    return "&".join((method.upper(), _enc(bare), _enc(normalised)))


def signature(method: str, url: str, params: dict[str, str], consumer_secret: str) -> str:
    """base64 HMAC-SHA256 of the base string with the key `consumer_secret&`."""
    key = (consumer_secret + "&").encode("utf-8")  # WooCommerce uses the raw secret
    digest = hmac.new(key, base_string(method, url, params).encode("utf-8"), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode("ascii")


def signed_params(
    method: str,
    url: str,
    consumer_key: str,
    consumer_secret: str,
    params: dict[str, str] | None = None,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """`params` plus the oauth_* parameters and their signature, to send as the query string."""
    signed = dict(params or {})
    signed.update(
        oauth_consumer_key=consumer_key,
        oauth_timestamp=str(int(time.time()) if timestamp is None else timestamp),
        oauth_nonce=nonce or secrets.token_hex(16),
        oauth_signature_method="HMAC-SHA256",
    )
    signed["oauth_signature"] = signature(method, url, signed, consumer_secret)
    return signed
