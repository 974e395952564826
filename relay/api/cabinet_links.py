"""Single-sign-on links into the web cabinet for connectors and plugins (scope `admin`).

`POST /v1/cabinet/links {"platform": "bitrix24"}` answers a link that opens the cabinet of the
key's tenant without a password: signed, valid 2 minutes, usable once (relay/people/sso.py).
A connector's settings page asks for one each time it is shown.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from relay.api.auth import require_scope
from relay.api.common import json_object, runtime
from relay.api.spec import documented
from relay.people.sso import issue_link

bp = Blueprint("cabinet_links", __name__, url_prefix="/v1/cabinet")


@bp.post("/links")
@documented(
    "A one-time sign-in link to the web cabinet (2 minutes)", tags=("cabinet",), status=201
)
@require_scope("admin")
def create_link():  # type: ignore[no-untyped-def]
    """A one-time sign-in link for the key's tenant."""
    body = json_object()
    rt = runtime()
    return jsonify(issue_link(rt.config, g.tenant, str(body.get("platform") or ""), rt.now())), 201
