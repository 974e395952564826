"""Admin API blueprint (admin_lists) — being built."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin_lists", __name__, url_prefix="/v1")
