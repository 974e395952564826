"""POST /v1/policy/explain: what the policy would decide for a number now (or at `at`)."""

from __future__ import annotations

from flask import Response, g, jsonify

from relay.api.http import blueprint, db, load_body, runtime, tenant_phone, tenant_scope
from relay.api.schemas.policy import DecisionSchema, ExplainIn
from relay.api.spec import documented
from relay.decisions.explain import explain_decision

bp = blueprint("policy", __name__)


@bp.post("/policy/explain")
@documented(
    "What the policy would decide for this number now (or at `at`); sends nothing",
    tags=("policy",),
    body=ExplainIn,
    example={
        "phone": "+375291234567",
        "category": "marketing",
        "channel": "sms",
        "at": "2026-01-15T21:30:00+00:00",
    },
    response=DecisionSchema,
)
@tenant_scope("messages:read")
def explain() -> Response:
    """Consent, stop-list, quiet hours in every zone the number may be in, frequency cap,
    sender and content rules — each reason named."""
    body = load_body(ExplainIn())
    phone = tenant_phone(body["phone"])
    return jsonify(
        explain_decision(
            db(),
            g.tenant,
            phone,
            body["at"] or runtime().now(),
            category=body["category"],
            channel=body["channel"],
            text=body["text"],
            sender=body["sender"],
            urgent=body["urgent"],
            timezone=body["timezone"],
            region=body["region"],
        )
    )
