"""What can go wrong talking to Bitrix24, as exceptions jobs can sort into outcomes."""

from __future__ import annotations


class B24Error(Exception):
    """Bitrix24 (portal or OAuth server) refused or failed a call.

    `code` is Bitrix24's `error` (e.g. `ACCESS_DENIED`, `ERROR_MESSAGE_NOT_FOUND`) or one of
    ours (`connection_error`, `bad_response`); `status` the HTTP status when one came back.
    """

    def __init__(
        self, code: str, description: str = "", status: int | None = None, method: str = ""
    ) -> None:
        where = f" in {method}" if method else ""
        super().__init__(
            f"{code or 'error'}{where}: {description}" + (f" (HTTP {status})" if status else "")
        )
        self.code, self.description, self.status, self.method = code, description, status, method


class PortalUnavailable(B24Error):
    """Transient: the portal or OAuth server answered 5xx, kept answering
    QUERY_LIMIT_EXCEEDED after every retry, or could not be reached. Worth replaying later."""


class ReinstallRequired(B24Error):
    """The refresh token was refused (expired after 180 days, app removed, payment required):
    nothing works until the portal's administrator opens or reinstalls the app."""


class NotInstalled(B24Error):
    """No active installation for this member_id."""
