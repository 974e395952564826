"""Single-sign-on links into the web cabinet for connectors and plugins (scope `admin`).

`POST /v1/cabinet/links {"platform": "bitrix24"}` answers a link that opens the cabinet of the
key's tenant without a password: signed, valid 2 minutes, usable once (relay/people/sso.py).
A connector's settings page asks for one each time it is shown.
"""

from __future__ import annotations

from flask import Response, g, jsonify

from relay.api.http import blueprint, load_body, runtime, tenant_scope
from relay.api.schemas.cabinet import CabinetLinkAnswerSchema, CabinetLinkSchema
from relay.api.spec import documented
from relay.people.sso import issue_link

bp = blueprint("cabinet_links", __name__)


@bp.post("/cabinet/links")
@documented(
    "A one-time sign-in link to the web cabinet (2 minutes)",
    tags=("cabinet",),
    body=CabinetLinkSchema,
    example={"platform": "woocommerce"},
    response=CabinetLinkAnswerSchema,
    status=201,
    errors=(422,),
)
@tenant_scope("admin")
def create_link() -> tuple[Response, int]:
    """A one-time sign-in link for the key's tenant."""
    body = load_body(CabinetLinkSchema())
    rt = runtime()
    return jsonify(issue_link(rt.config, g.tenant, body["platform"], rt.now())), 201
