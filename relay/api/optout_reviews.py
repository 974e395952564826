"""The opt-out review queue (scope `admin`): replies the recogniser was unsure of, held for a
person to decide (marketing to the number is held meanwhile); see relay.compliance.optout_review.
"""

from __future__ import annotations

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from relay.api.http import (
    actor,
    blueprint,
    commit,
    db,
    decode_cursor,
    load_body,
    load_query,
    page_answer,
    runtime,
    tenant_scope,
)
from relay.api.schemas.optout_reviews import ReviewDecisionSchema, ReviewQuerySchema, ReviewSchema
from relay.api.spec import documented
from relay.compliance.optout_review import decide_review, get_review, list_reviews, review_dict

bp = blueprint("optout_reviews", __name__)
TAGS = ("replies",)


@bp.get("/optout-reviews")
@documented(
    "Replies the opt-out recogniser was unsure of, newest first (filter by status)",
    tags=TAGS,
    query=ReviewQuerySchema,
    page=ReviewSchema,
)
@tenant_scope("admin")
def list_() -> ResponseReturnValue:
    """GET /v1/optout-reviews?status=pending."""
    args = load_query(ReviewQuerySchema())
    rows, cursor = list_reviews(
        db(), g.tenant.id, args["status"], decode_cursor(args["cursor"], int), args["limit"]
    )
    return page_answer(rows, cursor, review_dict)


@bp.get("/optout-reviews/<int:review_id>")
@documented("One opt-out review", tags=TAGS, response=ReviewSchema)
@tenant_scope("admin")
def get_(review_id: int) -> ResponseReturnValue:
    """GET /v1/optout-reviews/<id>."""
    return jsonify(review_dict(get_review(db(), g.tenant.id, review_id)))


@bp.post("/optout-reviews/<int:review_id>/decision")
@documented(
    "Decide a review: an opt-out (stop-list + revocation) or not (the hold is lifted)",
    tags=TAGS,
    body=ReviewDecisionSchema,
    example={"opt_out": True, "note": "спам в ответе — это отказ"},
    response=ReviewSchema,
    errors=(409,),
)
@tenant_scope("admin")
def decide(review_id: int) -> ResponseReturnValue:
    """POST /v1/optout-reviews/<id>/decision {"opt_out": true|false, "note"?}."""
    get_review(db(), g.tenant.id, review_id)  # 404 before looking at the body
    body = load_body(ReviewDecisionSchema())
    session = db()
    review = decide_review(
        session, g.tenant, review_id, body["opt_out"], actor(), body["note"], runtime().now()
    )
    commit()
    return jsonify(review_dict(review))
