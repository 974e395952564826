"""Encryption of stored secrets (gateway credentials, platform tokens) with Fernet.

The key is derived from RELAY_SECRET_KEY, so rotating that key makes old secrets unreadable:
`relay` refuses to decrypt with a clear error instead of sending with garbage credentials.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, cast

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    """Encrypts and decrypts JSON-able secrets with a key derived from the relay's secret."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ValueError(f"a secret key is required, got {secret_key!r}")
        digest = hashlib.sha256(("relay-secrets:" + secret_key).encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, data: dict[str, Any]) -> str:
        """Encrypt a dict to a token string."""
        return self._fernet.encrypt(json.dumps(data).encode()).decode()

    def open(self, token: str) -> dict[str, Any]:
        """Decrypt a token made by `seal`; an empty token is an empty dict."""
        if not token:
            return {}
        try:
            # `seal` took a dict: its token decrypts to a JSON object
            return cast(dict[str, Any], json.loads(self._fernet.decrypt(token.encode())))
        except InvalidToken as exc:
            raise ValueError(
                "stored secret cannot be decrypted: was RELAY_SECRET_KEY changed?"
            ) from exc
