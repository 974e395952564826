"""POST /v1/policy/explain: what the policy would decide for a number now (or at `at`)."""

from __future__ import annotations

from flask import Response, g, jsonify

from relay.api.http import blueprint, db, load_body, runtime, tenant_phone, tenant_scope
from relay.api.schemas.policy import DecisionSchema, ExplainIn
from relay.api.spec import documented
from relay.decisions.decide_batch import Planned, decide_for

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
    at = body["at"] or runtime().now()
    [outcome] = decide_for(
        db(),
        g.tenant,
        [
            Planned(
                phone=phone,
                category=body["category"],
                channel=body["channel"],
                text=str(body["text"] or "STOP"),
                sender=body["sender"],
                urgent=body["urgent"],
                timezone=body["timezone"],
                region=body["region"],
            )
        ],
        at,
    )
    assert outcome.decision is not None  # no `unsendable` given, so the policy decided
    out = outcome.decision.to_dict()
    out["phone"] = phone
    return jsonify(out)
