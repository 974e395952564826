"""The one error type the use cases raise; the API turns it into its JSON error shape.

The shape is in docs/architecture.md, 'API'.
"""

from __future__ import annotations

from typing import Any


class RelayError(Exception):
    """A client-caused error with a precise snake_case code and an HTTP status."""

    def __init__(
        self, code: str, message: str, status: int = 400, fields: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        if not code or not code.replace("_", "").isalnum() or code.lower() != code:
            raise ValueError(f"error code must be snake_case, got {code!r}")
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON body: {"error": {"code", "message", "fields"}}."""
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}
