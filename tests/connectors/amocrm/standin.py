"""A stand-in for one amoCRM account: the OAuth token endpoint and the API v4 calls we use.

It answers with the documented shapes (application/hal+json; errors as
application/problem+json, OAuth errors as amoCRM's OAuthProblemJson) and checks what the
connector sends: method, path, Bearer token, JSON bodies and their field names, note types and
params, single-use codes and refresh tokens, and the documented limit of 7 requests/second
(429 beyond it). Sources: amoCRM/Kommo developer docs — OAuth 2.0 (access_token), Leads,
Contacts, Events and notes (note types), Webhooks API, Limitations.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import deque
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.support.standins import Call, StandIn

NOTE_PARAMS = {"common": ("text",), "sms_in": ("text", "phone"), "sms_out": ("text", "phone")}
WEBHOOK_EVENTS = {
    "add_lead",
    "update_lead",
    "delete_lead",
    "restore_lead",
    "status_lead",
    "responsible_lead",
    "note_lead",
    "add_contact",
    "update_contact",
}


def hal(body: Any, status: int = 200) -> Response:
    """A successful API answer."""
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/hal+json"
    )


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    """amoCRM's error answer."""
    body = {
        "title": title,
        "type": f"https://httpstatus.es/{status}",
        "status": status,
        "detail": detail,
        **extra,
    }
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/problem+json"
    )


def oauth_problem(status: int, hint: str) -> Response:
    """The token endpoint's error (e.g. hint "Token has been revoked")."""
    body = {
        "hint": hint,
        "title": "Некорректный запрос",
        "status": status,
        "type": "https://developers.amocrm.ru/v3/errors/OAuthProblemJson",
        "detail": "В запросе отсутствует ряд параметров или параметры невалидны",
    }
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/problem+json"
    )


class AmoStandIn(StandIn):
    """One account ("example.amocrm.ru"). Knobs: `token_delay` (seconds the token endpoint
    takes), `throttle_next` (answer that many API calls with 429), `rate_limit` (requests/s
    before 429; None disables the check)."""

    def __init__(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        super().__init__()
        self.client_id, self.client_secret, self.redirect_uri = (
            client_id,
            client_secret,
            redirect_uri,
        )
        self.account = {
            "id": 29000001,
            "name": "Пример",
            "subdomain": "example",
            "country": "RU",
            "currency": "RUB",
        }
        self.codes: set[str] = set()
        self.access_tokens: set[str] = set()
        self.refresh_tokens: dict[str, bool] = {}  # token → still usable
        self.refresh_uses: list[str] = []  # every refresh token presented, in order
        self.leads: dict[int, dict[str, Any]] = {}
        self.contacts: dict[int, dict[str, Any]] = {}
        self.notes: list[tuple[int, dict[str, Any]]] = []
        self.webhooks: list[dict[str, Any]] = []
        self.token_delay = 0.0
        self.throttle_next = 0
        self.rate_limit: int | None = 7
        self.api_times: deque[float] = deque()
        self._state = threading.Lock()

    # --- test helpers -----------------------------------------------------------------------

    def issue_code(self) -> str:
        """An authorization code, as amoCRM puts it in the redirect."""
        code = "def502" + secrets.token_hex(16)
        self.codes.add(code)
        return code

    def add_lead(
        self,
        lead_id: int,
        status_id: int,
        pipeline_id: int,
        contacts: list[tuple[int, bool]],
        price: int = 1500,
        **fields: Any,
    ) -> None:
        """A lead with (contact id, is_main) links."""
        self.leads[lead_id] = {
            "id": lead_id,
            "name": f"Сделка #{lead_id}",
            "price": price,
            "responsible_user_id": 504141,
            "group_id": 0,
            "status_id": status_id,
            "pipeline_id": pipeline_id,
            "loss_reason_id": None,
            "created_by": 504141,
            "updated_by": 504141,
            "created_at": 1768470000,
            "updated_at": 1768478400,
            "closed_at": None,
            "closest_task_at": None,
            "is_deleted": False,
            "custom_fields_values": fields.pop("custom_fields_values", None),
            "score": None,
            "account_id": self.account["id"],
            "labor_cost": None,
            **fields,
            "_links": {"self": {"href": f"https://example.amocrm.ru/api/v4/leads/{lead_id}"}},
            "_embedded": {
                "tags": [],
                "companies": [],
                "contacts": [
                    {
                        "id": cid,
                        "is_main": main,
                        "_links": {
                            "self": {"href": f"https://example.amocrm.ru/api/v4/contacts/{cid}"}
                        },
                    }
                    for cid, main in contacts
                ],
            },
        }

    def add_contact(
        self,
        contact_id: int,
        name: str,
        phones: list[tuple[str, str]],
        extra_fields: list[dict[str, Any]] | None = None,
    ) -> None:
        """A contact with PHONE values (value, enum_code)."""
        fields = list(extra_fields or [])
        if phones:
            fields.insert(
                0,
                {
                    "field_id": 70001,
                    "field_name": "Телефон",
                    "field_code": "PHONE",
                    "field_type": "multitext",
                    "values": [
                        {"value": v, "enum_id": 90000 + i, "enum_code": code}
                        for i, (v, code) in enumerate(phones)
                    ],
                },
            )
        self.contacts[contact_id] = {
            "id": contact_id,
            "name": name,
            "first_name": name,
            "last_name": "",
            "responsible_user_id": 504141,
            "group_id": 0,
            "created_by": 504141,
            "updated_by": 504141,
            "created_at": 1768470000,
            "updated_at": 1768470000,
            "closest_task_at": None,
            "is_deleted": False,
            "is_unsorted": False,
            "custom_fields_values": fields or None,
            "account_id": self.account["id"],
            "_links": {"self": {"href": f"https://example.amocrm.ru/api/v4/contacts/{contact_id}"}},
            "_embedded": {"tags": [], "companies": []},
        }

    def revoke_refresh_tokens(self) -> None:
        """The user removed the integration: every refresh token is dead."""
        self.refresh_tokens = dict.fromkeys(self.refresh_tokens, False)
        self.access_tokens.clear()

    def api_calls(self, method: str | None = None, prefix: str = "/api/v4/") -> list[Call]:
        """API requests received (not the token endpoint)."""
        return [
            c
            for c in self.calls
            if c.path.startswith(prefix) and (method is None or c.method == method)
        ]

    # --- routing ------------------------------------------------------------------------------

    def handle(self, request: Request, call: Call) -> Response:
        if request.path == "/oauth2/access_token":
            return self._token(request, call)
        if not request.path.startswith("/api/v4/"):
            return problem(404, "Not Found", "no such path")
        limited = self._rate(call)
        if limited is not None:
            return limited
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.access_tokens:
            return problem(401, "Unauthorized", "Неавторизован")
        if request.method == "POST" and request.mimetype != "application/json":
            return problem(400, "Bad Request", "Content-Type must be application/json")
        return self._api(request, call)

    def _rate(self, call: Call) -> Response | None:
        now = time.monotonic()
        with self._state:
            if self.throttle_next > 0:
                self.throttle_next -= 1
                call.extra["throttled"] = True
                return problem(429, "Too Many Requests", "Превышен лимит запросов")
            self.api_times.append(now)
            while self.api_times and now - self.api_times[0] >= 1.0:
                self.api_times.popleft()
            if self.rate_limit is not None and len(self.api_times) > self.rate_limit:
                call.extra["throttled"] = True
                return problem(429, "Too Many Requests", "Превышен лимит запросов")
        return None

    def _token(self, request: Request, call: Call) -> Response:
        if request.method != "POST":
            return problem(405, "Method Not Allowed", "POST only")
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            return oauth_problem(400, "Invalid JSON")
        if not isinstance(body, dict):
            return oauth_problem(400, "The request is missing a required parameter")
        call.params = {k: str(v) for k, v in body.items()}
        if (
            body.get("client_id") != self.client_id
            or body.get("client_secret") != self.client_secret
        ):
            return oauth_problem(401, "Client authentication failed")
        if body.get("redirect_uri") != self.redirect_uri:
            return oauth_problem(400, "Redirect URI mismatch")
        grant = body.get("grant_type")
        with self._state:
            if grant == "authorization_code":
                if body.get("code") not in self.codes:
                    return oauth_problem(400, "Authorization code has been revoked")
                self.codes.discard(body["code"])
            elif grant == "refresh_token":
                used = str(body.get("refresh_token"))
                self.refresh_uses.append(used)
                if not self.refresh_tokens.get(used):
                    return oauth_problem(400, "Token has been revoked")
                self.refresh_tokens[used] = False  # single use
            else:
                return oauth_problem(400, "The authorization grant type is not supported")
        if self.token_delay:
            time.sleep(self.token_delay)  # widen the window two racing workers would hit
        access, refresh = "acc." + secrets.token_hex(12), "ref." + secrets.token_hex(12)
        with self._state:
            self.access_tokens.add(access)
            self.refresh_tokens[refresh] = True
        return Response(
            json.dumps(
                {
                    "token_type": "Bearer",
                    "expires_in": 86400,
                    "access_token": access,
                    "refresh_token": refresh,
                }
            ),
            content_type="application/json",
        )

    def _api(self, request: Request, call: Call) -> Response:
        path, method = request.path, request.method
        call.params = dict(request.args)
        if method == "GET" and path == "/api/v4/account":
            return hal({**self.account, "_links": {"self": {"href": "/api/v4/account"}}})
        if match := re.fullmatch(r"/api/v4/leads/(\d+)", path):
            lead = self.leads.get(int(match.group(1)))
            if method != "GET":
                return problem(405, "Method Not Allowed", "GET only")
            if lead is None:
                return Response(status=204)  # amoCRM answers 204 when nothing is found
            if "contacts" not in request.args.get("with", "").split(","):
                lead = {**lead, "_embedded": {**lead["_embedded"], "contacts": []}}
            return hal(lead)
        if match := re.fullmatch(r"/api/v4/contacts/(\d+)", path):
            contact = self.contacts.get(int(match.group(1)))
            return hal(contact) if contact else Response(status=204)
        if method == "POST" and (match := re.fullmatch(r"/api/v4/leads/(\d+)/notes", path)):
            return self._notes(int(match.group(1)), request, call)
        if method == "POST" and path == "/api/v4/webhooks":
            return self._webhook(request, call)
        return problem(404, "Not Found", f"no route {method} {path}")

    def _notes(self, lead_id: int, request: Request, call: Call) -> Response:
        body = request.get_json(silent=True)
        call.extra["json"] = body
        if lead_id not in self.leads:
            return problem(404, "Not Found", "lead not found")
        if not isinstance(body, list) or not body:
            return problem(400, "Bad Request", "Request validation failed")
        errors = []
        for i, note in enumerate(body):
            params = note.get("params") if isinstance(note, dict) else None
            wanted = NOTE_PARAMS.get(note.get("note_type") if isinstance(note, dict) else None)
            if wanted is None or not isinstance(params, dict):
                errors.append(
                    {
                        "request_id": str(i),
                        "errors": [
                            {
                                "code": "NotSupportedChoice",
                                "path": "note_type",
                                "detail": "The value you selected is not a valid choice.",
                            }
                        ],
                    }
                )
                continue
            bad = [k for k in wanted if not isinstance(params.get(k), str) or not params[k]]
            if bad:
                errors.append(
                    {
                        "request_id": str(i),
                        "errors": [
                            {
                                "code": "NotBlank",
                                "path": f"params.{k}",
                                "detail": "This value should not be blank.",
                            }
                            for k in bad
                        ],
                    }
                )
        if errors:
            return problem(
                400, "Bad Request", "Request validation failed", **{"validation-errors": errors}
            )
        created = []
        with self._state:
            for i, note in enumerate(body):
                self.notes.append((lead_id, note))
                created.append(
                    {
                        "id": 4000000 + len(self.notes),
                        "entity_id": lead_id,
                        "request_id": str(i),
                        "_links": {"self": {"href": f"/api/v4/leads/{lead_id}/notes"}},
                    }
                )
        return hal(
            {
                "_links": {"self": {"href": f"/api/v4/leads/{lead_id}/notes"}},
                "_embedded": {"notes": created},
            }
        )

    def _webhook(self, request: Request, call: Call) -> Response:
        body = request.get_json(silent=True)
        call.extra["json"] = body
        if not isinstance(body, dict) or not re.match(r"https?://", str(body.get("destination"))):
            return problem(400, "Bad Request", "destination must be a valid URL")
        events = body.get("settings")
        if not isinstance(events, list) or not events or set(events) - WEBHOOK_EVENTS:
            return problem(400, "Bad Request", "settings must list known actions")
        hook = {
            "id": 839656 + len(self.webhooks),
            "destination": body["destination"],
            "created_at": 1768470000,
            "updated_at": 1768470000,
            "account_id": self.account["id"],
            "created_by": 504141,
            "sort": body.get("sort", 1),
            "disabled": False,
            "settings": events,
        }
        self.webhooks.append(hook)
        return hal(hook)
