"""A local stand-in for Bitrix24: the portals' REST API and the OAuth server, on 127.0.0.1.

It answers with the documented shapes and checks what the connector sends
(github.com/bitrix-tools/b24-rest-docs):

- REST: `POST /rest/<method>` (a `.json` suffix is accepted), form-encoded UTF-8 with the
  token in `auth`; no token → 401 `NO_AUTH_FOUND`, unknown → 401 `invalid_token`, expired →
  401 `expired_token`; `batch` with `cmd[key]=method?query`, `$result[key][FIELD]` references
  and `halt`, answering `result` / `result_error` / `result_total` / `result_next` /
  `result_time`; at most 50 commands. Injected faults: `QUERY_LIMIT_EXCEEDED` (503),
  `INTERNAL_SERVER_ERROR` (500), or any error for one method.
- OAuth: `GET /oauth/token/?grant_type=refresh_token&client_id&client_secret&refresh_token`,
  answering the documented token JSON with `member_id` and `client_endpoint`; the refresh
  token is single-use and rotates; `invalid_client` / `invalid_grant` otherwise. As with
  OAuth servers generally, a refresh does not revoke access tokens already issued.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qsl

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from tests.connectors.bitrix24.portal import ApiError, Portal

_REF = re.compile(r"\$result\[([^\[\]]+)\]((?:\[[^\[\]]*\])*)")


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """PHP's reading of `a[b][c]=v` (written independently of the connector's parser)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        parts = [head] + (re.findall(r"([^\[\]]*)\]", "[" + rest) if rest else [])
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return root


def json_response(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def timing() -> dict[str, Any]:
    now = time.time()
    return {
        "start": now,
        "finish": now + 0.01,
        "duration": 0.01,
        "processing": 0.005,
        "date_start": "2026-01-15T11:00:00+03:00",
        "date_finish": "2026-01-15T11:00:00+03:00",
        "operating_reset_at": int(now) + 600,
        "operating": 0,
    }


@dataclass
class Call:
    """One request as the stand-in decoded it."""

    kind: str  # "rest" | "oauth"
    method: str
    params: dict[str, Any]
    status: int = 200
    http_method: str = "POST"
    content_type: str = ""
    answer: Any = None


@dataclass
class Token:
    portal: Portal
    expires_at: float


@dataclass
class Faults:
    query_limit: int = 0  # next N REST requests: 503 QUERY_LIMIT_EXCEEDED
    server_error: int = 0  # next N REST requests: 500 INTERNAL_SERVER_ERROR
    oauth_down: int = 0  # next N OAuth requests: 503 with an HTML page
    method_errors: dict[str, list[ApiError]] = field(default_factory=dict)


class Bitrix24StandIn:
    """Portals and the OAuth server. Tests add portals, CRM data and faults, then inspect
    `calls`, `portal.comments`, `portal.statuses`, `portal.bindings`, `portal.senders`."""

    def __init__(self, client_id: str = "app.relay.test", client_secret: str = "s3cret") -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.portals: dict[str, Portal] = {}
        self.access: dict[str, Token] = {}
        self.refresh: dict[str, Portal] = {}
        self.calls: list[Call] = []
        self.faults = Faults()
        self._lock = threading.RLock()
        self._server: BaseWSGIServer | None = None

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> Self:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def oauth_url(self) -> str:
        return self.url + "/oauth/token/"

    @property
    def client_endpoint(self) -> str:
        return self.url + "/rest/"

    # --- portals and tokens ---------------------------------------------------------------

    def add_portal(self, domain: str = "shop.bitrix24.ru") -> Portal:
        portal = Portal(member_id=secrets.token_hex(16), domain=domain)
        self.portals[portal.member_id] = portal
        return portal

    def issue_tokens(self, portal: Portal) -> tuple[str, str]:
        """A fresh pair, as Bitrix24 hands one out at install or app opening."""
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        with self._lock:
            self.access[access] = Token(portal, time.time() + 3600)
            self.refresh[refresh] = portal
        return access, refresh

    def expire_access_tokens(self) -> None:
        with self._lock:
            for token in self.access.values():
                token.expires_at = 0

    def revoke_refresh_tokens(self) -> None:
        """As when 180 days pass or the app is removed: every refresh is refused."""
        with self._lock:
            self.refresh.clear()

    def fail(
        self, method: str, status: int, code: str, description: str = "", times: int = 1
    ) -> None:
        self.faults.method_errors.setdefault(method, []).extend(
            [ApiError(status, code, description)] * times
        )

    def rest_calls(self, method: str | None = None) -> list[Call]:
        return [
            c for c in self.calls if c.kind == "rest" and (method is None or c.method == method)
        ]

    def oauth_calls(self) -> list[Call]:
        return [c for c in self.calls if c.kind == "oauth"]

    # --- HTTP -------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            if request.path.startswith("/oauth/token"):
                response = self._oauth(request)
            elif request.path.startswith("/rest/"):
                response = self._rest(request)
            else:
                response = Response("not found", status=404)
        return response(environ, start_response)

    def _oauth(self, request: Request) -> Response:
        params = dict(request.args)
        call = Call("oauth", params.get("grant_type", ""), params, http_method=request.method)
        self.calls.append(call)

        def refuse(status: int, code: str, text: str) -> Response:
            call.status, call.answer = status, {"error": code}
            return json_response({"error": code, "error_description": text}, status)

        if self.faults.oauth_down:
            self.faults.oauth_down -= 1
            call.status = 503
            return Response(
                "<html>503 Service Unavailable</html>", status=503, content_type="text/html"
            )
        if request.method != "GET" or params.get("grant_type") != "refresh_token":
            return refuse(400, "invalid_request", "Invalid request")
        if (params.get("client_id"), params.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return refuse(401, "invalid_client", "Invalid client")
        portal = self.refresh.pop(params.get("refresh_token", ""), None)
        if portal is None:
            return refuse(400, "invalid_grant", "Invalid refresh token")
        access, refresh = self.issue_tokens(portal)
        body = {
            "access_token": access,
            "client_endpoint": self.client_endpoint,
            "domain": "oauth.bitrix.info",
            "expires": int(time.time()) + 3600,
            "expires_in": 3600,
            "member_id": portal.member_id,
            "refresh_token": refresh,
            "scope": "crm,messageservice,placement",
            "server_endpoint": "https://oauth.bitrix.info/rest/",
            "status": "F",
            "user_id": 1,
        }
        call.answer = body
        return json_response(body)

    def _rest(self, request: Request) -> Response:
        method = request.path[len("/rest/") :].removesuffix(".json")
        try:  # a urlencoded body is ASCII; its escapes are UTF-8, as Bitrix24 reads them
            text = request.get_data().decode("ascii")
            pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
            pairs += list(request.args.items(multi=True))
        except (UnicodeError, ValueError):
            return json_response(
                {"error": "INVALID_REQUEST", "error_description": "Bad request encoding"}, 400
            )
        params = unflatten(pairs)
        call = Call(
            "rest", method, params, http_method=request.method, content_type=request.mimetype
        )
        self.calls.append(call)
        status, body = self._answer(method, params)
        call.status, call.answer = status, body
        return json_response(body, status)

    def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.faults.query_limit:
            self.faults.query_limit -= 1
            return 503, {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}
        if self.faults.server_error:
            self.faults.server_error -= 1
            return 500, {
                "error": "INTERNAL_SERVER_ERROR",
                "error_description": "Internal server error",
            }
        raw = params.pop("auth", None)
        if not raw:
            return 401, {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"}
        token = self.access.get(str(raw))
        if token is None:
            return 401, {
                "error": "invalid_token",
                "error_description": "The access token provided is invalid.",
            }
        if token.expires_at < time.time():
            return 401, {
                "error": "expired_token",
                "error_description": "The access token provided has expired.",
            }
        if method == "batch":
            return 200, {"result": self._batch(token.portal, params), "time": timing()}
        try:
            result = self._run(token.portal, method, params)
        except ApiError as exc:
            return exc.status, {"error": exc.code, "error_description": exc.description}
        if isinstance(result, tuple):
            return 200, {"result": result[0], "total": result[1], "time": timing()}
        return 200, {"result": result, "time": timing()}

    def _run(self, portal: Portal, method: str, params: dict[str, Any]) -> Any:
        queued = self.faults.method_errors.get(method)
        if queued:
            raise queued.pop(0)
        return portal.call(method, params)

    def _batch(self, portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
        commands = params.get("cmd")
        if not isinstance(commands, dict) or not commands:
            raise ApiError(400, "ERROR_BATCH_LENGTH_EXCEEDED", "Empty batch")
        halt = str(params.get("halt", "0")) in ("1", "true")
        results: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        totals: dict[str, int] = {}
        for index, (key, line) in enumerate(commands.items()):
            if index >= 50:
                errors[key] = {
                    "error": "ERROR_BATCH_LENGTH_EXCEEDED",
                    "error_description": "Max batch length exceeded",
                }
                continue
            method, _, query = str(line).partition("?")
            if method == "batch":
                errors[key] = {
                    "error": "ERROR_BATCH_METHOD_NOT_ALLOWED",
                    "error_description": "Method is not allowed for batch usage",
                }
                continue
            resolved = _REF.sub(lambda m: self._ref(results, m), query)
            sub = unflatten(parse_qsl(resolved, keep_blank_values=True))
            self.calls.append(Call("rest", method, sub, http_method="BATCH"))
            try:
                result = self._run(portal, method, sub)
            except ApiError as exc:
                errors[key] = {"error": exc.code, "error_description": exc.description}
                if halt:
                    break
                continue
            if isinstance(result, tuple):
                result, totals[key] = result
            results[key] = result
        return {
            "result": results or [],
            "result_error": errors or [],
            "result_total": totals or [],
            "result_next": [],
            "result_time": {k: timing() for k in results} or [],
        }

    @staticmethod
    def _ref(results: dict[str, Any], match: re.Match[str]) -> str:
        node: Any = results.get(match.group(1))
        for part in re.findall(r"\[([^\[\]]*)\]", match.group(2)):
            node = (
                node.get(part)
                if isinstance(node, dict)
                else (
                    node[int(part)]
                    if isinstance(node, list) and part.isdigit() and int(part) < len(node)
                    else None
                )
            )
        return "" if node is None else str(node)
