"""Errors of the amoCRM connector: platform answers, and answers of our own endpoints."""

from __future__ import annotations

from typing import Any


class AmoError(Exception):
    """Something went wrong talking to amoCRM. `code` is snake_case, `status` amoCRM's HTTP."""

    transient = False

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}" + (f" (HTTP {status})" if status else ""))
        self.code = code
        self.message = message
        self.status = status


class AmoAuthError(AmoError):
    """The account's tokens cannot be used or refreshed: it needs re-authorisation."""


class AmoApiError(AmoError):
    """amoCRM refused a request or failed; `transient` errors are worth retrying later."""

    def __init__(
        self, code: str, message: str, status: int | None = None, transient: bool = False
    ) -> None:
        super().__init__(code, message, status)
        self.transient = transient


class HttpError(Exception):
    """An answer of one of our endpoints: rendered as the relay's JSON error shape."""

    def __init__(
        self, code: str, message: str, status: int, fields: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}

    def body(self) -> dict[str, Any]:
        """The relay's error shape: {"error": {"code", "message", "fields"}}.

        See docs/architecture.md, 'API'.
        """
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}
