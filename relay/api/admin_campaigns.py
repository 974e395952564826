"""Admin API blueprint (admin_campaigns) — being built."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin_campaigns", __name__, url_prefix="/v1")
