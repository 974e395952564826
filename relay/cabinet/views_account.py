"""Signing in and out, the language, single sign-on, and the three code flows: sign-up (a new
store and its owner), joining by invitation, and password reset. Each code flow is a number
to send a code to, then the code with what the step needs; the number waits in the session
between the two."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import phonenumbers
from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from relay.cabinet.blueprint import bp
from relay.cabinet.security import (
    client_ip,
    log_in,
    log_out,
    login_required,
    rt,
    safe_next,
)
from relay.cabinet.texts import error_text, form_errors, wait_text
from relay.errors import RelayError
from relay.people import codes, invitations, signup, sso, users
from relay.people.numbers import login_phone

REGIONS = [("RU", _l("Russia")), ("BY", _l("Belarus")), ("KZ", _l("Kazakhstan"))]
FLOWS = {
    # flow → (session key, code purpose)
    "signup": ("signup", "signup"),
    "invite": ("invite", "invite"),
    "reset": ("reset", "reset"),
}


def _now() -> Any:
    return rt().now()


def _locale() -> str:
    from relay.cabinet.i18n import current_locale

    return current_locale()


def _shown(phone: str) -> str:
    """+375 29 123-45-67, kept on one line (no-break spaces and hyphens)."""
    shown = phonenumbers.format_number(
        phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return shown.replace(" ", "\u00a0").replace("-", "\u2011")


def _home_or_next() -> Any:
    return redirect(safe_next(request.args.get("next")) or url_for("cabinet.home"))


# ---- sign in / out ------------------------------------------------------------------------


@bp.route("/signin", methods=["GET", "POST"])
def signin():  # type: ignore[no-untyped-def]
    if g.user is not None:
        return _home_or_next()
    errors: dict[str, str] = {}
    phone_raw = ""
    status = 200
    if request.method == "POST":
        phone_raw = request.form.get("phone", "")[:64]
        password = request.form.get("password", "")[:1000]
        try:
            phone = login_phone(phone_raw, "RU")
            user = users.attempt_sign_in(rt(), g.db, phone, password, client_ip(), _now())
        except RelayError as exc:
            g.db.rollback()
            errors, status = form_errors(exc), exc.status
            if exc.code == "invalid_phone":  # do not say which of the two was wrong
                errors = {"_form": _("Wrong phone number or password.")}
        else:
            if user is None:
                g.db.commit()
                errors, status = {"_form": _("Wrong phone number or password.")}, 422
            else:
                g.db.commit()
                log_in(user)
                return _home_or_next()
    return (
        render_template(
            "cabinet/signin.html",
            errors=errors,
            phone=phone_raw,
            next=safe_next(request.args.get("next")),
            signup_open=signup.signup_mode(rt().config) == "open",
        ),
        status,
    )


@bp.post("/signout")
def signout():  # type: ignore[no-untyped-def]
    log_out()
    flash(_("You have signed out."), "success")
    return redirect(url_for("cabinet.signin"))


@bp.post("/signout-everywhere")
@login_required
def signout_everywhere():  # type: ignore[no-untyped-def]
    users.sign_out_everywhere(g.user)
    g.db.commit()
    log_out()
    flash(_("You have signed out on every device."), "success")
    return redirect(url_for("cabinet.signin"))


@bp.post("/language")
def language():  # type: ignore[no-untyped-def]
    locale = request.form.get("locale", "")
    if locale not in ("ru", "en"):
        locale = "ru"
    if g.user is not None:
        users.set_locale(g.user, locale)
        g.db.commit()
    session["lang"] = locale
    return redirect(safe_next(request.form.get("next")) or url_for("cabinet.home"))


@bp.get("/sso")
def sso_link():  # type: ignore[no-untyped-def]
    user = sso.redeem_link(rt(), g.db, request.args.get("token"), _now())
    g.db.commit()
    log_in(user)
    return redirect(url_for("cabinet.home"))


# ---- the code flows -----------------------------------------------------------------------


def _phone_step(
    flow: str,
    *,
    action: str,
    heading: Any,
    intro: Any = None,
    tenant_id: str | Callable[[str], str | None] | None = None,
    check: Any = None,
) -> Any:
    """Step 1: a number; on POST a code is sent and the browser goes to step 2."""
    errors: dict[str, str] = {}
    status = 200
    region = request.form.get("region") or "RU"
    phone_raw = ""
    if request.method == "POST":
        phone_raw = request.form.get("phone", "")[:64]
        try:
            region = region if region in ("RU", "BY", "KZ") else "RU"
            phone = login_phone(phone_raw, region)
            send = check(phone) if check else True
            if send:
                owner = tenant_id(phone) if callable(tenant_id) else tenant_id
                sent = codes.request_code(
                    rt(), g.db, phone, FLOWS[flow][1], _now(),
                    ip=client_ip(), tenant_id=owner, locale=_locale(),
                )  # fmt: skip
                g.db.commit()
                codes.dispatch_after_commit(rt(), sent)
                if not sent.sent:
                    raise RelayError("code_not_sent", "the code could not be sent", 422)
        except RelayError as exc:
            g.db.rollback()
            status = exc.status
            if exc.code == "code_not_sent":
                errors = {"phone": _("We could not send a code to this number.")}
            else:
                errors = form_errors(exc)
        else:
            session[FLOWS[flow][0]] = {"phone": phone, "region": region}
            return None
    return (
        render_template(
            "cabinet/phone_step.html",
            heading=heading,
            intro=intro,
            action=action,
            regions=REGIONS,
            region=region,
            phone=phone_raw,
            errors=errors,
        ),
        status,
    )


def _code_outcome(checked: codes.CodeCheck) -> tuple[dict[str, str], int]:
    if checked.outcome == "wrong":
        return {"code": _("Wrong code. Attempts left: %(n)s.", n=checked.attempts_left)}, 422
    if checked.outcome == "locked":
        seconds = (checked.locked_until - _now()).total_seconds() if checked.locked_until else 900
        return {"code": _("Three wrong codes.") + " " + wait_text(seconds)}, 429
    return {"code": _("The code has expired. Ask for a new one.")}, 422


def _code_step(
    flow: str,
    complete: Any,
    *,
    heading: Any,
    submit_label: Any,
    password_label: Any,
    ask_store: bool = False,
    ask_name: bool = False,
    action: str,
    resend_action: str,
    restart_url: str,
) -> Any:
    """Step 2: the code and the rest of the form; `complete(phone, state, form)` returns
    (CodeCheck, user or None) or raises RelayError."""
    state = session.get(FLOWS[flow][0])
    if not isinstance(state, dict) or not isinstance(state.get("phone"), str):
        return redirect(restart_url)
    errors: dict[str, str] = {}
    status = 200
    form = {k: request.form.get(k, "")[:300] for k in ("store", "name")}
    if request.method == "POST":
        try:
            checked, user = complete(state["phone"], state, request.form)
        except RelayError as exc:
            g.db.rollback()
            errors, status = form_errors(exc), exc.status
        else:
            g.db.commit()  # a wrong code is counted even though nothing else was written
            if user is not None:
                session.pop(FLOWS[flow][0], None)
                log_in(user)
                return None
            errors, status = _code_outcome(checked)
    return (
        render_template(
            "cabinet/code_step.html",
            heading=heading,
            shown_phone=_shown(state["phone"]),
            action=action,
            resend_action=resend_action,
            restart_url=restart_url,
            ask_store=ask_store,
            ask_name=ask_name,
            password_label=password_label,
            submit_label=submit_label,
            form=form,
            errors=errors,
        ),
        status,
    )


def _resend(flow: str, tenant_id: str | None, back: str, restart: str) -> Any:
    state = session.get(FLOWS[flow][0])
    if not isinstance(state, dict) or not isinstance(state.get("phone"), str):
        return redirect(restart)
    try:
        sent = codes.request_code(
            rt(), g.db, state["phone"], FLOWS[flow][1], _now(),
            ip=client_ip(), tenant_id=tenant_id, locale=_locale(),
        )  # fmt: skip
        g.db.commit()
        codes.dispatch_after_commit(rt(), sent)
        if sent.sent:
            flash(_("A new code is on its way."), "success")
        else:
            flash(_("We could not send a code to this number."), "error")
    except RelayError as exc:
        g.db.rollback()
        flash(error_text(exc), "error")
    return redirect(back)


def _signup_allowed() -> Any:
    mode = signup.signup_mode(rt().config)
    if mode == "open":
        return None
    text = (
        _("On this relay, people join only by an invitation link from a store's owner.")
        if mode == "invite"
        else _("Sign-up is closed on this relay. Ask its operator for an invitation.")
    )
    return render_template("cabinet/message.html", heading=_("Sign-up"), text=text), 403


@bp.route("/signup", methods=["GET", "POST"])
def signup_start():  # type: ignore[no-untyped-def]
    refused = _signup_allowed()
    if refused:
        return refused

    def check(phone: str) -> bool:
        if users.phone_taken(g.db, phone):
            raise RelayError("phone_taken", "taken", 409, {"phone": ["taken"]})
        return True

    page = _phone_step(
        "signup", action=url_for("cabinet.signup_start"), heading=_("Create a store"),
        intro=_("Your phone number is your login. We check it with a code."), check=check,
    )  # fmt: skip
    return page or redirect(url_for("cabinet.signup_verify"))


@bp.route("/signup/verify", methods=["GET", "POST"])
def signup_verify():  # type: ignore[no-untyped-def]
    refused = _signup_allowed()
    if refused:
        return refused

    def complete(phone: str, state: dict[str, Any], form: Any) -> Any:
        return signup.complete_signup(
            rt(), g.db, phone=phone, code=form.get("code", ""), store=form.get("store", ""),
            region=state.get("region", "RU"), name=form.get("name", ""),
            password=form.get("password", ""), locale=_locale(), now=_now(),
        )  # fmt: skip

    page = _code_step(
        "signup", complete, heading=_("Create a store"), submit_label=_("Create the store"),
        password_label=_("Password"), ask_store=True, ask_name=True,
        action=url_for("cabinet.signup_verify"), resend_action=url_for("cabinet.signup_resend"),
        restart_url=url_for("cabinet.signup_start"),
    )  # fmt: skip
    if page is None:
        flash(_("Welcome! Your store is ready."), "success")
        return redirect(url_for("cabinet.home"))
    return page


@bp.post("/signup/resend")
def signup_resend():  # type: ignore[no-untyped-def]
    refused = _signup_allowed()
    if refused:
        return refused
    return _resend(
        "signup", None, url_for("cabinet.signup_verify"), url_for("cabinet.signup_start")
    )


@bp.route("/reset", methods=["GET", "POST"])
def reset():  # type: ignore[no-untyped-def]
    # a number with no account gets no code, but the page answers the same way
    page = _phone_step(
        "reset", action=url_for("cabinet.reset"), heading=_("Reset the password"),
        intro=_("We send a code to the number you sign in with."),
        tenant_id=lambda phone: users.tenant_of_phone(g.db, phone),
        check=lambda phone: users.phone_taken(g.db, phone),
    )  # fmt: skip
    return page or redirect(url_for("cabinet.reset_verify"))


@bp.route("/reset/verify", methods=["GET", "POST"])
def reset_verify():  # type: ignore[no-untyped-def]
    def complete(phone: str, _state: dict[str, Any], form: Any) -> Any:
        return users.reset_with_code(
            rt(), g.db, phone, form.get("code", ""), form.get("password", ""), _now()
        )

    page = _code_step(
        "reset", complete, heading=_("Reset the password"),
        submit_label=_("Save the new password"), password_label=_("New password"),
        action=url_for("cabinet.reset_verify"), resend_action=url_for("cabinet.reset_resend"),
        restart_url=url_for("cabinet.reset"),
    )  # fmt: skip
    if page is None:
        flash(_("The password is changed. Your other sessions were ended."), "success")
        return redirect(url_for("cabinet.home"))
    return page


@bp.post("/reset/resend")
def reset_resend():  # type: ignore[no-untyped-def]
    state = session.get("reset") or {}
    phone = state.get("phone") if isinstance(state, dict) else None
    if isinstance(phone, str) and not users.phone_taken(g.db, phone):
        flash(_("A new code is on its way."), "success")  # the same answer as for a real one
        return redirect(url_for("cabinet.reset_verify"))
    tenant = users.tenant_of_phone(g.db, phone) if isinstance(phone, str) else None
    return _resend("reset", tenant, url_for("cabinet.reset_verify"), url_for("cabinet.reset"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def invite(token: str):  # type: ignore[no-untyped-def]
    row, tenant = invitations.open_invitation(g.db, token, _now())
    from relay.cabinet.blueprint import ROLE_NAMES

    def check(phone: str) -> bool:
        if users.phone_taken(g.db, phone):
            raise RelayError("phone_taken", "taken", 409, {"phone": ["taken"]})
        return True

    page = _phone_step(
        "invite", action=url_for("cabinet.invite", token=token),
        heading=_("Join %(store)s", store=tenant.name),
        intro=_("You are invited as %(role)s. Your phone number will be your login.",
                role=ROLE_NAMES[row.role]),
        tenant_id=tenant.id, check=check,
    )  # fmt: skip
    if page is None:
        session["invite"]["token"] = token
        session.modified = True
        return redirect(url_for("cabinet.invite_verify", token=token))
    return page


@bp.route("/invite/<token>/verify", methods=["GET", "POST"])
def invite_verify(token: str):  # type: ignore[no-untyped-def]
    _row, tenant = invitations.open_invitation(g.db, token, _now())
    state = session.get("invite")
    if not isinstance(state, dict) or state.get("token") != token:
        return redirect(url_for("cabinet.invite", token=token))

    def complete(phone: str, _state: dict[str, Any], form: Any) -> Any:
        return invitations.accept_invitation(
            rt(), g.db, token, phone=phone, code=form.get("code", ""), name=form.get("name", ""),
            password=form.get("password", ""), locale=_locale(), now=_now(),
        )  # fmt: skip

    page = _code_step(
        "invite", complete, heading=_("Join %(store)s", store=tenant.name),
        submit_label=_("Join the store"), password_label=_("Password"), ask_name=True,
        action=url_for("cabinet.invite_verify", token=token),
        resend_action=url_for("cabinet.invite_resend", token=token),
        restart_url=url_for("cabinet.invite", token=token),
    )  # fmt: skip
    if page is None:
        flash(_("Welcome to %(store)s!", store=tenant.name), "success")
        return redirect(url_for("cabinet.home"))
    return page


@bp.post("/invite/<token>/resend")
def invite_resend(token: str):  # type: ignore[no-untyped-def]
    _row, tenant = invitations.open_invitation(g.db, token, _now())
    return _resend(
        "invite", tenant.id, url_for("cabinet.invite_verify", token=token),
        url_for("cabinet.invite", token=token),
    )  # fmt: skip
