"""GET /healthz: 200 when the database and Redis answer, 503 otherwise (no auth: probes).

`checks.spool` appears while the intake spool holds requests (relay/intake/spool.py):
"pending" (they are replayed once the database answers) or "full" (503: intake is refused).
"""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields

from relay.api.http import blueprint, runtime
from relay.api.spec import documented
from relay.api.spool_http import spool_health
from relay.storage.db import ping


class HealthSchema(Schema):
    """Each dependency: "ok" or "error: <kind>"; "spool": "pending" | "full" when not empty."""

    status = fields.String(metadata={"enum": ["ok", "degraded"]})
    checks = fields.Dict(keys=fields.String(), values=fields.String())


bp = blueprint("health", __name__, url_prefix="")


@bp.get("/healthz")
@documented(
    "200 when the database and Redis answer, 503 naming the broken one",
    tags=("meta",),
    response=HealthSchema,
    status=(200, 503),
    not_rate_limited=True,  # relay/api/ratelimit.py exempts it
)
def healthz() -> ResponseReturnValue:
    """Check each dependency; name the broken one."""
    rt = runtime()
    checks = {}
    try:
        ping(rt.engine)
        checks["db"] = "ok"
    except Exception as exc:  # any driver error means "down" here
        checks["db"] = f"error: {type(exc).__name__}"
    try:
        rt.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    spool = spool_health()
    if spool != "ok":  # named only when something waits in it: "pending" or "full"
        checks["spool"] = spool
    ok = all(v == "ok" for k, v in checks.items() if not (k == "spool" and v == "pending"))
    return jsonify({"status": "ok" if ok else "degraded", "checks": checks}), 200 if ok else 503
