"""Admin API blueprint (admin_core) — being built."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin_core", __name__, url_prefix="/v1")
