"""Flows: which event sends which template, on which channels, after what delay; each with an
on/off switch (the flow use case saves it, checked as the API's PUT is)."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from relay.cabinet.blueprint import bp
from relay.cabinet.lists_support import actor, list_form_errors
from relay.cabinet.security import login_required, role_required, rt
from relay.cabinet.texts import MESSAGES
from relay.compliance.audit import audit
from relay.content import flow_admin
from relay.errors import RelayError

CATEGORY_NAMES = {"marketing": _l("advertising"), "transactional": _l("service messages")}
MESSAGES.update(
    {
        "flow_not_found": _l("There is no such flow in this store."),
    }
)
INVALID_FLOW = _l("This flow cannot be switched on as it is: %(detail)s")


def _page(errors: dict[str, str] | None = None, status: int = 200) -> Any:
    return render_template(
        "cabinet/flows.html", active="flows", flows=flow_admin.flows_of(g.db, g.tenant.id),
        category_names=CATEGORY_NAMES, errors=errors or {},
    ), status  # fmt: skip


@bp.get("/flows", endpoint="flows")
@login_required
def flows_page():  # type: ignore[no-untyped-def]
    return _page()


@bp.post("/flows/<name>/switch")
@role_required("manager")
def flow_switch(name: str):  # type: ignore[no-untyped-def]
    enabled = request.form.get("enabled") == "1"
    try:
        flow, before = flow_admin.set_enabled(g.db, g.tenant, name, enabled)
    except RelayError as exc:
        g.db.rollback()
        if exc.status == 404:
            raise
        errors = list_form_errors(exc)
        if exc.code == "invalid_flow":
            errors = {"_form": str(INVALID_FLOW) % {"detail": exc.message}}
        return _page(errors=errors, status=exc.status)
    after = flow_admin.flow_view(flow)
    if before != after:
        audit(
            g.db, tenant_id=g.tenant.id, actor=actor(), action="flow.update", target_type="flow",
            target_id=name, before=before, after=after, at=rt().now(),
        )  # fmt: skip
    g.db.commit()
    if enabled:
        flash(_("The flow “%(name)s” is on.", name=name), "success")
    else:
        flash(_("The flow “%(name)s” is off.", name=name), "success")
    return redirect(url_for("cabinet.flows"))
