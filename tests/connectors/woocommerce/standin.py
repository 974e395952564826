"""A stand-in WooCommerce store: the REST API v3 order-notes endpoints, on 127.0.0.1.

It checks what WooCommerce checks (WC_REST_Authentication, the order-notes controller and the
WP REST argument validation) and answers with WordPress's documented shapes:

- over HTTPS, HTTP Basic auth with the consumer key/secret (or consumer_key/consumer_secret in
  the query); over plain HTTP only OAuth 1.0a one-legged in the query string (HMAC-SHA1 or
  HMAC-SHA256, key `secret&`, timestamp within 15 minutes, nonce used once). Basic auth over
  HTTP authenticates nobody, so the request is refused as WooCommerce refuses it;
- the key's permissions (read / write / read_write), the order id (404 Invalid order ID.),
  `note` required (rest_missing_callback_param), `customer_note` boolean (rest_invalid_param),
  `type` of the listing one of any/customer/internal;
- 201 with the created note; the list is newest first.

`rate_limit` answers the next requests 429 with a Retry-After; `fail_status` answers 5xx.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.support.standins import Call, StandIn

NOTES = re.compile(r"\A/wp-json/wc/v3/orders/(\d+)/notes\Z")


def wp_error(code: str, message: str, status: int, **data: Any) -> Response:
    """A WordPress REST error: {"code", "message", "data": {"status", …}}."""
    body = {"code": code, "message": message, "data": {"status": status, **data}}
    return Response(json.dumps(body), status=status, content_type="application/json")


def _enc(text: str) -> str:
    return quote(text, safe="~")


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the test trusts it via REQUESTS_CA_BUNDLE)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "store.crt", folder / "store.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class WooCommerceStandIn(StandIn):
    """One store with orders `orders` and one API key (`permissions`: read/write/read_write)."""

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        orders: tuple[int, ...] = (727,),
        permissions: str = "read_write",
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        super().__init__()
        self.key, self.secret, self.permissions, self.tls = (
            consumer_key,
            consumer_secret,
            permissions,
            tls,
        )
        self.orders = set(orders)
        self.notes: dict[int, list[dict[str, Any]]] = {o: [] for o in orders}
        self.nonces: set[str] = set()
        self.rate_limit: list[str] = []  # Retry-After values for the next requests
        self.fail_status: list[int] = []
        self.delay = 0.0  # seconds every answer takes (a slow store)
        self._next_note = 280

    def start(self) -> WooCommerceStandIn:
        context = None
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*map(str, self.tls))
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, ssl_context=context)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None, "stand-in not started"
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_port}"

    # --- authentication, as WC_REST_Authentication does it -----------------------------

    def _basic(self, request: Request) -> Response | None:
        key = request.args.get("consumer_key")
        secret = request.args.get("consumer_secret")
        if not (key and secret) and request.authorization is not None:
            key, secret = request.authorization.username, request.authorization.password
        if not key or key != self.key:
            return self._not_allowed(request)
        if not secret or not hmac.compare_digest(secret, self.secret):
            return wp_error(
                "woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401
            )
        return None

    def _oauth(self, request: Request) -> Response | None:
        params = dict(request.args)
        names = (
            "oauth_consumer_key",
            "oauth_timestamp",
            "oauth_nonce",
            "oauth_signature",
            "oauth_signature_method",
        )
        if not any(params.get(n) for n in names):
            return self._not_allowed(request)
        missing = [n for n in names if not params.get(n)]
        if missing:
            return wp_error(
                "woocommerce_rest_authentication_missing_parameter",
                "Missing OAuth parameters " + ", ".join(missing),
                401,
            )
        if params["oauth_consumer_key"] != self.key:
            return wp_error(
                "woocommerce_rest_authentication_error", "Consumer key is invalid.", 401
            )
        given = params.pop("oauth_signature")
        method = params["oauth_signature_method"]
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            return wp_error(
                "woocommerce_rest_authentication_error",
                "Invalid signature - signature method is invalid.",
                401,
            )
        pairs = sorted((_enc(k), _enc(v)) for k, v in params.items())
        base = "&".join(
            (
                request.method,
                _enc(self.url + request.path),
                _enc("&".join(f"{k}={v}" for k, v in pairs)),
            )
        )
        algo = hashlib.sha1 if method == "HMAC-SHA1" else hashlib.sha256
        expected = base64.b64encode(
            hmac.new((self.secret + "&").encode(), base.encode(), algo).digest()
        ).decode()
        if not hmac.compare_digest(expected, given):
            return wp_error(
                "woocommerce_rest_authentication_error",
                "Invalid signature - provided signature does not match.",
                401,
            )
        if abs(int(params["oauth_timestamp"]) - time.time()) > 15 * 60:
            return wp_error("woocommerce_rest_authentication_error", "Invalid timestamp.", 401)
        if params["oauth_nonce"] in self.nonces:
            return wp_error(
                "woocommerce_rest_authentication_error",
                "Invalid nonce - nonce has already been used.",
                401,
            )
        self.nonces.add(params["oauth_nonce"])
        return None

    def _not_allowed(self, request: Request) -> Response:
        if request.method == "POST":
            return wp_error(
                "woocommerce_rest_cannot_create",
                "Sorry, you are not allowed to create resources.",
                401,
            )
        return wp_error("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401)

    def _permitted(self, method: str) -> Response | None:
        wanted = "read" if method == "GET" else "write"
        if self.permissions not in (wanted, "read_write"):
            return wp_error(
                "woocommerce_rest_authentication_error",
                f"The API key provided does not have {wanted} permissions.",
                401,
            )
        return None

    # --- the order-notes controller ------------------------------------------------------

    def handle(self, request: Request, call: Call) -> Response:
        call.params = dict(request.args)
        if self.delay:
            time.sleep(self.delay)
        if self.rate_limit:
            return Response(
                '{"code":"too_many_requests"}',
                status=429,
                headers={"Retry-After": self.rate_limit.pop(0)},
                content_type="application/json",
            )
        if self.fail_status:
            return Response("<html>Bad Gateway</html>", status=self.fail_status.pop(0))
        match = NOTES.match(request.path)
        if match is None or request.method not in ("GET", "POST"):
            return wp_error(
                "rest_no_route", "No route was found matching the URL and request method.", 404
            )
        refused = self._basic(request) if self.tls else self._oauth(request)
        refused = refused or self._permitted(request.method)
        if refused is not None:
            return refused
        order_id = int(match.group(1))
        if request.method == "GET":
            kind = request.args.get("type", "any")
            if kind not in ("any", "customer", "internal"):
                return wp_error(
                    "rest_invalid_param",
                    "Invalid parameter(s): type",
                    400,
                    params={"type": "type is not one of any, customer, and internal."},
                )
            if order_id not in self.orders:
                return wp_error("woocommerce_rest_shop_order_invalid_id", "Invalid order ID.", 404)
            notes = [
                n
                for n in reversed(self.notes[order_id])
                if kind == "any" or n["customer_note"] == (kind == "customer")
            ]
            return Response(json.dumps(notes), content_type="application/json")
        return self._create(request, call, order_id)

    def _create(self, request: Request, call: Call, order_id: int) -> Response:
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            return wp_error("rest_invalid_json", "Invalid JSON body passed.", 400)
        call.extra["json"] = body
        if not isinstance(body, dict) or not isinstance(body.get("note"), str):
            return wp_error(
                "rest_missing_callback_param", "Missing parameter(s): note", 400, params=["note"]
            )
        if "customer_note" in body and not isinstance(body["customer_note"], bool):
            return wp_error(
                "rest_invalid_param",
                "Invalid parameter(s): customer_note",
                400,
                params={"customer_note": "customer_note is not of type boolean."},
            )
        if order_id not in self.orders:
            return wp_error("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
        self._next_note += 1
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        note = {
            "id": self._next_note,
            "author": "system",
            "date_created": now,
            "date_created_gmt": now,
            "note": body["note"],
            "customer_note": bool(body.get("customer_note", False)),
        }
        self.notes[order_id].append(note)
        return Response(json.dumps(note), status=201, content_type="application/json")
