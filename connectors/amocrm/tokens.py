"""OAuth 2 tokens of an amoCRM account: the code exchange, and refresh that never burns twice.

amoCRM refresh tokens are single-use: every refresh returns a new pair and the old refresh
token is dead. If two workers refresh with the same token, one of them gets "Token has been
revoked" and a careless connector would flag a perfectly good installation as revoked (or lose
the new pair). So a refresh runs under a per-account lock on two levels:

1. a `threading.Lock` per account serialises the threads of one process;
2. a lease in the installation's secrets (`refresh_lock`), taken with the store's atomic
   compare-and-set (`update_secrets(..., expected=...)`), serialises processes: only the
   holder calls the token endpoint; the others wait and then use the pair it saved.

The new pair is saved with the same compare-and-set (expected: our lease), so it lands
atomically or not at all. Token endpoint: POST https://{domain}/oauth2/access_token with
client_id, client_secret, grant_type, code | refresh_token, redirect_uri (amoCRM OAuth docs).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import requests

from connectors.amocrm.config import AmoConfig
from connectors.amocrm.errors import AmoApiError, AmoAuthError
from shared.installations import Installation, InstallationStore

log = logging.getLogger("connectors.amocrm.tokens")
PLATFORM = "amocrm"
EXPIRY_SKEW = 60  # refresh a minute early: a token must not expire in flight
LEASE_SECONDS = 30.0  # longer than a token call can take (timeout 10s, a few 429 waits)


@dataclass(frozen=True)
class TokenSet:
    """A fresh pair from the token endpoint; `expires_at` is a unix time."""

    access_token: str
    refresh_token: str
    expires_at: int

    def as_secrets(self) -> dict[str, Any]:
        """The installation secrets this pair is stored as."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
        }


class TokenEndpoint:
    """Calls `/oauth2/access_token` of an account."""

    def __init__(
        self,
        config: AmoConfig,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.session = session or requests.Session()
        self._clock = clock

    def exchange_code(self, domain: str, code: str) -> TokenSet:
        """Trade an authorization code (valid 20 minutes, once) for a token pair."""
        return self._call(domain, {"grant_type": "authorization_code", "code": code})

    def refresh(self, domain: str, refresh_token: str) -> TokenSet:
        """Trade a refresh token (single use) for a new pair."""
        return self._call(domain, {"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _call(self, domain: str, grant: dict[str, str]) -> TokenSet:
        body = {
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            **grant,
            "redirect_uri": self.config.redirect_uri,
        }
        url = f"{self.config.api_base(domain)}/oauth2/access_token"
        try:
            resp = self.session.post(url, json=body, timeout=self.config.timeout)
        except requests.RequestException as exc:
            raise AmoApiError("connection_error", str(exc), transient=True) from exc
        answer = _json(resp)
        if resp.status_code in (400, 401, 403):
            # amoCRM's OAuthProblemJson: {"hint": "Token has been revoked", "title", "status",
            # "detail"}. The grant itself was refused: retrying cannot help.
            hint = answer.get("hint") or answer.get("detail") or answer.get("title") or "refused"
            raise AmoAuthError("invalid_grant", str(hint), resp.status_code)
        if resp.status_code != 200:
            raise AmoApiError(
                "token_endpoint_error",
                f"token endpoint answered {resp.status_code}",
                resp.status_code,
                transient=resp.status_code == 429 or resp.status_code >= 500,
            )
        try:
            return TokenSet(
                access_token=str(answer["access_token"]),
                refresh_token=str(answer["refresh_token"]),
                expires_at=int(self._clock()) + int(answer.get("expires_in", 86400)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AmoApiError("bad_token_response", f"missing {exc}", resp.status_code) from exc


def _json(resp: requests.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class StaticTokens:
    """A bare access token (right after the code exchange, before anything is saved)."""

    def __init__(self, access_token: str) -> None:
        self._token = access_token

    def access_token(self) -> str:
        """The token as given."""
        return self._token

    def refresh(self, stale: str | None) -> str:
        """A just-issued token that is refused cannot be refreshed here."""
        raise AmoAuthError("unauthorized", "a freshly issued access token was refused")


_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def _process_lock(registry: dict[str, threading.Lock], account: str) -> threading.Lock:
    with _THREAD_LOCKS_GUARD:
        return registry.setdefault(account, threading.Lock())


class TokenManager:
    """The tokens of one installed account: current access token, refresh on demand.

    `on_revoked(installation)` is called once when amoCRM refuses our refresh token (the user
    removed the integration, or the token expired after 3 months unused).
    """

    def __init__(
        self,
        store: InstallationStore,
        endpoint: TokenEndpoint,
        account: str,
        on_revoked: Callable[[Any], None] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        locks: dict[str, threading.Lock] | None = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.store = store
        self.endpoint = endpoint
        self.account = account
        self.on_revoked = on_revoked
        self._clock = clock
        self._sleep = sleep
        self._locks = _THREAD_LOCKS if locks is None else locks  # tests simulate two processes
        self.lease_seconds = lease_seconds

    def _secrets(self, allow_reauth: bool = False) -> dict[str, Any]:
        installation = self.store.get(PLATFORM, self.account)
        if installation is None:
            raise AmoAuthError("not_installed", f"no installation for {self.account!r}")
        if installation.status == "needs_reauth" and not allow_reauth:
            raise AmoAuthError("needs_reauth", "the account must be authorised again")
        return installation.secrets

    def _fresh(self, secrets: dict[str, Any]) -> bool:
        return int(secrets.get("expires_at") or 0) - EXPIRY_SKEW > self._clock()

    def access_token(self) -> str:
        """A usable access token, refreshing first when the stored one has expired."""
        secrets = self._secrets()
        if secrets.get("access_token") and self._fresh(secrets):
            return str(secrets["access_token"])
        return self.refresh(secrets.get("access_token"))

    def refresh(self, stale: str | None) -> str:
        """Replace `stale` (expired, or refused with 401); returns the access token to use.

        If another thread or process already replaced it, no call is made: theirs is used.
        """
        with _process_lock(self._locks, self.account):
            taken = self._take_lease(stale)
            if isinstance(taken, str):
                return taken  # someone else refreshed while we waited
            secrets, lease = taken
            return self._refresh_holding(secrets, lease)

    def save_settings(self, settings: dict[str, Any]) -> Installation:
        """Replace the installation's settings without racing a token refresh.

        `InstallationStore.save` writes the secrets too; saved while another worker rotates
        the tokens, it would put back a burnt refresh token. Holding the refresh lease makes
        refreshers wait until this save (which also releases the lease) is done.
        """
        with _process_lock(self._locks, self.account):
            self._take_lease(None, reuse_fresh=False)  # always a lease when not reusing
            installation = self.store.get(PLATFORM, self.account)
            if installation is None:
                raise AmoAuthError("not_installed", f"no installation for {self.account!r}")
            secrets = {**installation.secrets, "refresh_lock": ""}
            return self.store.save(replace(installation, settings=settings, secrets=secrets))

    def _take_lease(
        self, stale: str | None, reuse_fresh: bool = True
    ) -> str | tuple[dict[str, Any], str]:
        give_up = self._clock() + 2 * self.lease_seconds
        while True:
            secrets = self._secrets(allow_reauth=not reuse_fresh)
            current = secrets.get("access_token")
            if reuse_fresh and current and current != stale and self._fresh(secrets):
                return str(current)
            if "refresh_lock" not in secrets:  # saved before leases existed: add the field
                self.store.update_secrets(
                    PLATFORM,
                    self.account,
                    {"refresh_lock": ""},
                    expected={"refresh_token": secrets.get("refresh_token")},
                )
                continue
            held = str(secrets.get("refresh_lock") or "")
            if held and _lease_deadline(held) > self._clock():
                if self._clock() > give_up:
                    raise AmoApiError(
                        "refresh_busy", "another worker holds the refresh lease", transient=True
                    )
                self._sleep(0.05)  # the holder saves within seconds; poll the store
                continue
            lease = f"{uuid.uuid4().hex}:{self._clock() + self.lease_seconds:.3f}"
            won = self.store.update_secrets(
                PLATFORM,
                self.account,
                {"refresh_lock": lease},
                expected={"refresh_token": secrets.get("refresh_token"), "refresh_lock": held},
            )
            if won:
                return secrets, lease
            # Lost the compare-and-set: another process took the lease or rotated. Reload.

    def _refresh_holding(self, secrets: dict[str, Any], lease: str) -> str:
        release = {"refresh_lock": ""}
        try:
            tokens = self.endpoint.refresh(self.account, str(secrets.get("refresh_token")))
        except AmoAuthError:
            # We held the lease, so nobody else used this refresh token: it is really dead.
            self.store.update_secrets(
                PLATFORM, self.account, release, expected={"refresh_lock": lease}
            )
            self._flag_revoked()
            raise
        except Exception:
            self.store.update_secrets(
                PLATFORM, self.account, release, expected={"refresh_lock": lease}
            )
            raise
        saved = self.store.update_secrets(
            PLATFORM,
            self.account,
            {**tokens.as_secrets(), **release},
            expected={"refresh_lock": lease},
        )
        if not saved:  # our lease ran out and another worker took over: a bug-level delay
            log.error("refresh lease lost before saving", extra={"account": self.account})
        log.info("amoCRM tokens refreshed", extra={"account": self.account})
        return tokens.access_token

    def _flag_revoked(self) -> None:
        installation = self.store.get(PLATFORM, self.account)
        log.warning(
            "amoCRM refresh token refused: needs re-authorisation", extra={"account": self.account}
        )
        self.store.set_status(PLATFORM, self.account, "needs_reauth")
        if self.on_revoked is not None and installation is not None:
            self.on_revoked(installation)


def _lease_deadline(lease: str) -> float:
    try:
        return float(lease.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return 0.0  # unreadable: treat as expired
