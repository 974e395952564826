"""Store URLs: the installation's account key and the short name used in event ids.

WooCommerce identifies the sending store with `X-WC-Webhook-Source: home_url('/')`, e.g.
`https://shop.example.by/` (scheme, host, the site's path, always a trailing slash). The
installation's account is that URL normalised the same way, so the header finds it directly.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]+")
MAX_SLUG = 60  # leaves room in the 128-character event id for "woo-", the order id and status


def normalise_store_url(raw: object) -> str:
    """`https://Shop.Example.by:443/shop` → `https://shop.example.by/shop/`.

    Lower-cases scheme and host, drops default ports, query and fragment, and ends the path
    with exactly one slash. A bare host is taken as https. Raises ValueError otherwise.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("a store URL is required")
    text = raw.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"the store URL must be http(s), got {scheme!r}")
    try:
        host = (parts.hostname or "").encode("idna").decode("ascii").lower()
        port = parts.port
    except (UnicodeError, ValueError) as exc:
        raise ValueError(f"not a valid store URL: {exc}") from None
    if not host or parts.username or parts.password:
        raise ValueError("the store URL needs a host and no user name or password")
    netloc = host if port in (None, 80 if scheme == "http" else 443) else f"{host}:{port}"
    path = "/" + parts.path.strip("/")
    path = path if path == "/" else path + "/"
    url = f"{scheme}://{netloc}{path}"
    if len(url) > 255:  # the account column holds 255 characters
        raise ValueError("the store URL is longer than 255 characters")
    return url


def store_slug(account: str) -> str:
    """A short ASCII name of the store for event ids: `shop.example.by`, `shop.by-en`.

    Long URLs are cut and suffixed with a hash so two stores never share a slug.
    """
    parts = urlsplit(account)
    text = (parts.netloc + parts.path.rstrip("/")).replace("/", "-").replace(":", "-")
    slug = _SLUG_UNSAFE.sub("-", text).strip("-") or "store"
    if len(slug) > MAX_SLUG:
        digest = hashlib.sha256(account.encode("utf-8")).hexdigest()[:10]
        slug = slug[: MAX_SLUG - 11] + "-" + digest
    return slug
