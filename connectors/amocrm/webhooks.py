"""Receiving amoCRM webhooks: verify, record in the inbox, enqueue, answer at once.

amoCRM does not sign webhooks. The URL carries a per-installation secret
(`/webhook/<account>/<secret>`), compared in constant time, and the body's `account[id]`,
`account[subdomain]` (and each item's `account_id`) must be the installed account's, else 403.

One body may hold several items (`leads[status][0]`, `leads[status][1]`, `leads[add][0]`,
`contacts[update][0]` …). Each lead item becomes its own inbox record (deduplicated on its
content, so a redelivered webhook is recorded once) and its own job. Items the connector does
not act on are recorded as skipped with the reason, so the inbox shows everything that came.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from connectors.amocrm.errors import HttpError
from connectors.amocrm.formdata import FormError, parse_body
from connectors.amocrm.mapping import as_int
from shared.connector import ConnectorContext
from shared.installations import Installation

log = logging.getLogger("connectors.amocrm.webhooks")
PLATFORM = "amocrm"
PROCESS_JOB = "connectors.amocrm.jobs.process_lead"
LEAD_ACTIONS = ("status", "add")  # a lead moved to a stage, or was created in one


def verify_secret(ctx: ConnectorContext, account: str, secret: str) -> Installation:
    """The installation whose webhook secret is `secret`; HttpError 403 otherwise."""
    installation = ctx.store.get(PLATFORM, account)
    expected = str((installation.secrets if installation else {}).get("webhook_secret") or "")
    # compare_digest even when nothing is installed, so timing says nothing about accounts
    good = hmac.compare_digest(secret.encode("utf-8"), (expected or "\0" * 43).encode("utf-8"))
    if installation is None or not expected or not good:
        log.warning("amoCRM webhook with a wrong secret", extra={"account": account[:255]})
        raise HttpError("invalid_webhook_secret", "unknown webhook URL", 403)
    return installation


def parse(content_type: str | None, raw: bytes) -> dict[str, Any]:
    """The nested form data of a webhook body; HttpError 415/400 when it is not one."""
    if content_type != "application/x-www-form-urlencoded":
        raise HttpError(
            "unsupported_media_type",
            f"amoCRM webhooks are application/x-www-form-urlencoded, got {content_type!r}",
            415,
        )
    try:
        return parse_body(raw)
    except FormError as exc:
        raise HttpError("invalid_body", str(exc), 400) from exc


def account_mismatch(installation: Installation, data: dict[str, Any]) -> str | None:
    """Why the body is not from the installed account, or None when it is."""
    account = found if isinstance(found := data.get("account"), dict) else {}
    want_id = str(installation.settings.get("account_id") or "")
    want_sub = str(installation.settings.get("subdomain") or "")
    got_id, got_sub = account.get("id"), account.get("subdomain")
    if got_id is None and got_sub is None:
        return "the body names no account (account[id], account[subdomain])"
    if got_id is not None and str(got_id) != want_id:
        return f"account[id] {str(got_id)[:32]!r} is not this installation's"
    if got_sub is not None and str(got_sub).lower() != want_sub.lower():
        return f"account[subdomain] {str(got_sub)[:64]!r} is not this installation's"
    for _entity, _action, item in items(data):
        item_account = item.get("account_id") if isinstance(item, dict) else None
        if item_account is not None and str(item_account) != want_id:
            return f"an item's account_id {str(item_account)[:32]!r} is not this installation's"
    return None


def items(data: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(entity, action, item) for every `entity[action][i]` in the body, `account` excluded."""
    found: list[tuple[str, str, Any]] = []
    for entity, actions in data.items():
        if entity == "account" or not isinstance(actions, dict):
            continue
        for action, listed in actions.items():
            if isinstance(listed, list):
                entries = listed
            elif isinstance(listed, dict):  # sparse indexes ("leads[status][5]") stay a dict
                entries = list(listed.values())
            else:
                entries = [listed]
            found.extend((entity, action, entry) for entry in entries)
    return found


def _dedupe_key(account_id: str, entity: str, action: str, item: Any) -> str:
    canonical = json.dumps([account_id, entity, action, item], sort_keys=True, ensure_ascii=False)
    return f"{entity}:{action}:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def receive(
    ctx: ConnectorContext, installation: Installation, data: dict[str, Any]
) -> dict[str, Any]:
    """Record each item and enqueue the lead ones; returns the answer body."""
    account = installation.account
    account_id = str(installation.settings.get("account_id") or "")
    mismatch = account_mismatch(installation, data)
    if mismatch:
        # The secret was right, so this is worth keeping as evidence (a moved webhook URL?).
        ctx.inbox.record(PLATFORM, account, "rejected", {"reason": mismatch, "body": data})
        log.warning("amoCRM webhook from another account", extra={"account": account})
        raise HttpError("account_mismatch", mismatch, 403)
    accepted: list[int] = []
    duplicates = ignored = 0
    for entity, action, item in items(data):
        payload = {"entity": entity, "action": action, "item": item, "account": data.get("account")}
        kind = f"{entity}_{action}"[:64]
        record = ctx.inbox.record(
            PLATFORM, account, kind, payload, _dedupe_key(account_id, entity, action, item)
        )
        if record is None:
            duplicates += 1
            continue
        reason = _not_ours(installation, entity, action, item)
        if reason:
            ctx.inbox.finish(record.id, "skipped", reason)
            ignored += 1
            continue
        accepted.append(record.id)
        try:
            ctx.enqueue(PROCESS_JOB, record.id)
        except Exception:  # Redis down: the record stays "received" in the inbox for a re-run
            log.exception("could not enqueue amoCRM webhook", extra={"record": record.id})
    return {"accepted": accepted, "duplicates": duplicates, "ignored": ignored}


def _not_ours(installation: Installation, entity: str, action: str, item: Any) -> str | None:
    """Why an item needs no work (recorded as the skip reason), or None."""
    if entity != "leads" or action not in LEAD_ACTIONS:
        return f"{entity}[{action}] webhooks are not used (only leads[status] and leads[add])"
    if not isinstance(item, dict) or as_int(item.get("id")) is None:
        return "the lead item has no numeric id"
    if installation.status != "active":
        return f"the installation is {installation.status}: re-authorise the integration"
    return None
