"""GET /healthz: 200 when the database and Redis answer, 503 otherwise (no auth: probes)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from relay.api.common import runtime
from relay.storage.db import ping

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
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
    ok = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if ok else "degraded", "checks": checks}), 200 if ok else 503
