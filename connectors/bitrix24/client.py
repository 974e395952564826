"""The Bitrix24 REST client: one portal, its tokens, pacing, retries and `batch`.

Calls go to `{client_endpoint}{method}` as a form POST with `auth=<access token>` (how the
official CRest SDK sends them). What the client does with the portal's answers
(REST docs: _includes/system-errors.md, limits.md, settings/oauth/auto-renewal.md):

- `expired_token` (HTTP 401): refresh once through the OAuth server with the stored refresh
  token, save the rotated pair atomically (compare-and-set on the refresh token used; when
  another worker won, adopt theirs), then repeat the call. Tokens are never refreshed ahead of
  time: the docs ask apps not to.
- `QUERY_LIMIT_EXCEEDED` (HTTP 503): back off exponentially and retry, up to `max_retries`.
- other 5xx: retried the same way, except for calls that create something
  (`crm.timeline.comment.add`), which could be repeated by a retry.
- anything else: `B24Error` with Bitrix24's code, for the caller to decide.

Logs name the portal by a masked member_id and never carry tokens or parameters.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from connectors.bitrix24 import ratelimit
from connectors.bitrix24.config import B24Config
from connectors.bitrix24.defaults import PLATFORM
from connectors.bitrix24.errors import B24Error, NotInstalled, PortalUnavailable, ReinstallRequired
from connectors.bitrix24.forms import command, flatten
from connectors.bitrix24.oauth import refresh_grant
from shared.connector import ConnectorContext

log = logging.getLogger("connectors.bitrix24.client")
NOT_RETRIED_ON_5XX = frozenset({"crm.timeline.comment.add"})
BATCH_LIMIT = 50  # commands per batch (settings/how-to-call-rest-api/batch.md)


def mask_member(member_id: str) -> str:
    """A member_id for logs: enough to tell portals apart, not enough to impersonate one."""
    return (member_id[:6] + "…") if len(member_id) > 6 else "…"


def http_session() -> requests.Session:
    """A session whose transport retries only failed connections (nothing was sent yet), so
    a POST is never repeated by the transport; Bitrix24's own answers are handled above it."""
    session = requests.Session()
    retry = Retry(
        total=2, connect=2, read=0, status=0, other=0, backoff_factor=0.2, allowed_methods=None
    )
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


def mark_needs_reinstall(ctx: ConnectorContext, member_id: str, error: B24Error) -> None:
    """Flag the installation and its tenant so the operator sees the portal must reinstall."""
    inst = ctx.store.get(PLATFORM, member_id)
    if inst is None:
        return
    settings = {**inst.settings, "auth_error": {"code": error.code, "at": int(time.time())}}
    ctx.store.save(replace(inst, settings=settings, status="needs_reinstall"))
    ctx.tenants.set_tenant_status(inst.tenant_id, "needs_reinstall")
    log.warning(
        "portal needs reinstall", extra={"member": mask_member(member_id), "error": error.code}
    )


class Bitrix24Client:
    """REST calls to one portal. Build it with `for_installation` (stored tokens, refreshes)
    or `for_token` (a token someone just handed us, never refreshed: used to verify it)."""

    def __init__(
        self,
        ctx: ConnectorContext,
        member_id: str,
        client_endpoint: str,
        access_token: str,
        refresh_token: str | None = None,
        *,
        cfg: B24Config | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ctx, self.member_id = ctx, member_id
        self.cfg = cfg or B24Config.from_context(ctx)
        self.endpoint = client_endpoint if client_endpoint.endswith("/") else client_endpoint + "/"
        self._access, self._refresh = access_token, refresh_token
        self.http = session or http_session()
        self.sleep = sleep

    @classmethod
    def for_installation(cls, ctx: ConnectorContext, member_id: str, **kw: Any) -> Bitrix24Client:
        """A client on the stored tokens of an active installation (NotInstalled otherwise)."""
        inst = ctx.store.get(PLATFORM, member_id)
        if inst is None or inst.status != "active":
            raise NotInstalled("not_installed", f"no active installation ({inst and inst.status})")
        s = inst.secrets
        if not (s.get("client_endpoint") and s.get("access_token")):
            raise NotInstalled("not_installed", "the installation has no tokens")
        return cls(
            ctx, member_id, s["client_endpoint"], s["access_token"], s.get("refresh_token"), **kw
        )

    @classmethod
    def for_token(
        cls,
        ctx: ConnectorContext,
        member_id: str,
        client_endpoint: str,
        access_token: str,
        **kw: Any,
    ) -> Bitrix24Client:
        """A client on a token handed to us (install or placement POST); never refreshes."""
        return cls(ctx, member_id, client_endpoint, access_token, None, **kw)

    # --- calls ------------------------------------------------------------------------

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        """Call one method; return its `result` or raise B24Error / PortalUnavailable."""
        refreshed, attempt = False, 0
        while True:
            self._wait_turn()
            status, body = self._post(method, params)
            if status == 200 and "error" not in body and "result" in body:
                return body["result"]
            code = str(body.get("error") or "") or f"http_{status}"
            description = str(body.get("error_description") or "")
            if code == "expired_token" and self._refresh and not refreshed:
                self._refresh_tokens()
                refreshed = True
                continue
            transient = code in ("QUERY_LIMIT_EXCEEDED", "OVERLOAD_LIMIT") or (
                status >= 500 and method not in NOT_RETRIED_ON_5XX
            )
            if transient and attempt < self.cfg.max_retries:
                if code == "QUERY_LIMIT_EXCEEDED":
                    self._drain()
                self.sleep(self._backoff(attempt))
                attempt += 1
                continue
            if transient or status >= 500:
                raise PortalUnavailable(code, description, status, method)
            raise B24Error(code, description, status, method)

    def _wait_turn(self) -> None:
        """Wait for the portal's next request slot: shared by every process when the host
        gives a pacer, else this process's own bucket."""
        rate, burst = self.cfg.rate_per_second, self.cfg.burst
        if self.ctx.pacer is None:
            ratelimit.wait_turn(self.member_id, rate, burst, self.sleep)
            return
        wait = self.ctx.pacer.reserve(f"bitrix24:{self.member_id}", rate, burst)
        if wait > 0:
            self.sleep(wait)

    def _drain(self) -> None:
        """The portal said we were too fast: every caller of the portal backs off together."""
        rate, burst = self.cfg.rate_per_second, self.cfg.burst
        if self.ctx.pacer is None:
            ratelimit.bucket_for(self.member_id, rate, burst).drain()
        else:
            self.ctx.pacer.hold(f"bitrix24:{self.member_id}", 0.0, rate, burst)

    def batch(
        self, commands: Mapping[str, tuple[str, Mapping[str, Any] | None]], halt: bool = False
    ) -> tuple[dict[str, Any], dict[str, B24Error]]:
        """Run up to 50 commands in one request; return (results, errors) keyed like `commands`.

        Later commands may use earlier results as `$result[key][FIELD]`.
        """
        if not commands or len(commands) > BATCH_LIMIT:
            raise ValueError(f"a batch takes 1-{BATCH_LIMIT} commands, got {len(commands)}")
        cmd = {key: command(method, params) for key, (method, params) in commands.items()}
        answer = self.call("batch", {"halt": "1" if halt else "0", "cmd": cmd})
        answer = answer if isinstance(answer, dict) else {}
        results = found if isinstance(found := answer.get("result"), dict) else {}
        raw_errors = answer.get("result_error")
        errors: dict[str, B24Error] = {}
        for key, err in raw_errors.items() if isinstance(raw_errors, dict) else []:
            err = err if isinstance(err, dict) else {}
            errors[key] = B24Error(
                str(err.get("error") or "error"),
                str(err.get("error_description") or ""),
                method=commands.get(key, ("?", None))[0],
            )
        return results, errors

    # --- internals --------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        base = self.cfg.backoff_seconds * (2.0**attempt)
        return min(self.cfg.backoff_max, base) * random.uniform(0.8, 1.2)

    def _post(self, method: str, params: Mapping[str, Any] | None) -> tuple[int, dict[str, Any]]:
        data = [*flatten(params or {}), ("auth", self._access)]
        try:
            response = self.http.post(self.endpoint + method, data=data, timeout=self.cfg.timeout)
        except requests.RequestException as exc:
            log.warning(
                "bitrix24 unreachable",
                extra={
                    "member": mask_member(self.member_id),
                    "method": method,
                    "error": type(exc).__name__,
                },
            )
            raise PortalUnavailable("connection_error", type(exc).__name__, None, method) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        log.info(
            "bitrix24 call",
            extra={
                "member": mask_member(self.member_id),
                "method": method,
                "status": response.status_code,
            },
        )
        return response.status_code, body if isinstance(body, dict) else {"result": body}

    def _adopt(self, secrets: Mapping[str, Any]) -> None:
        self._access = secrets.get("access_token") or self._access
        self._refresh = secrets.get("refresh_token") or self._refresh
        if secrets.get("client_endpoint"):
            endpoint = str(secrets["client_endpoint"])
            self.endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"

    def _refresh_tokens(self) -> None:
        """Rotate the pair once; concurrent workers agree through compare-and-set."""
        used = self._refresh
        assert used is not None
        stored = self.ctx.store.get(PLATFORM, self.member_id)
        if stored is not None and stored.secrets.get("refresh_token") not in (None, used):
            self._adopt(stored.secrets)  # another worker has rotated already: use theirs
            return
        try:
            grant = refresh_grant(self.cfg, used, self.http)
        except ReinstallRequired as exc:
            stored = self.ctx.store.get(PLATFORM, self.member_id)
            if stored is not None and stored.secrets.get("refresh_token") not in (None, used):
                self._adopt(stored.secrets)  # lost the race at the OAuth server, not the token
                return
            mark_needs_reinstall(self.ctx, self.member_id, exc)
            raise
        if grant.member_id != self.member_id:
            raise B24Error("member_mismatch", "the OAuth server answered for another portal")
        if self.ctx.store.update_secrets(
            PLATFORM, self.member_id, grant.secrets(), expected={"refresh_token": used}
        ):
            self._adopt(grant.secrets())
            log.info("tokens rotated", extra={"member": mask_member(self.member_id)})
            return
        stored = self.ctx.store.get(PLATFORM, self.member_id)
        if stored is not None:
            self._adopt(stored.secrets)
