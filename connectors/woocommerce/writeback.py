"""Write-back: what happened to a message becomes a private order note in WooCommerce.

The relay calls `handle()` after every committed status change of a message that came from a
WooCommerce event, once for every status the message went through (so a message delivered
before its job ran still gets its "sent" note, with the text), and may call it again with the
same status (repeats, late jobs, several workers at once). Each note ends with a marker
`[relay <message id> <status>]`. Exactly once: the marker is claimed in the relay's database
(`ctx.claims`, shared.writeback.ClaimStore) before the REST call, so of any number of workers
handling the same (message, status) only one calls the store, however slow it answers; the
claim is completed after the note is written, released when the store was unreachable (the job
is retried), and a claim whose worker died is taken over after its lease. The order's notes are
still read first, so a note written just before a worker died is not written twice.

Notes are written for sent, delivered, undelivered, failed, expired and blocked (with
the reason), and for the customer's replies; queued, read, cancelled and unknown are not news
a shop manager needs on the order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from connectors.woocommerce.mapping import PLATFORM
from connectors.woocommerce.rest import WooCommerceClient, WooCommerceError
from shared.connector import ConnectorContext
from shared.phones import mask_phone
from shared.writeback import WritebackEvent

log = logging.getLogger("connectors.woocommerce.writeback")
NOTED = {
    "sent": "отправлено",
    "delivered": "доставлено",
    "undelivered": "не доставлено",
    "failed": "не отправлено: ошибка шлюза",
    "expired": "не доставлено: истёк срок доставки",
    "blocked": "не отправлено",
}
REASONS = {
    "stop_list": "номер в стоп-листе (клиент отписался)",
    "no_consent": "нет согласия на рекламные сообщения",
    "frequency_cap": "превышен лимит рекламных сообщений",
    "invalid_phone": "неверный номер телефона",
    "content_rule": "текст не прошёл проверку",
    "sender_not_allowed": "имя отправителя не разрешено",
    "tenant_disabled": "отправка отключена",
}
WRITABLE_STATUSES = ("active",)
MAX_QUOTE = 300
CLAIM_LEASE_SECONDS = 300.0  # longer than any REST call with its retries


def note_text(event: WritebackEvent) -> str | None:
    """The note for this event, or None when it is not worth a note."""
    phone = mask_phone(event.phone)
    if event.kind == "reply_received":
        text = (event.text or "").strip()[:MAX_QUOTE]
        ref = event.message_id or "reply"
        return f"Ответ клиента ({phone}) на сообщение: «{text}» [relay {ref} reply]"
    if event.kind != "status_changed" or event.status not in NOTED:
        return None
    line = f"Сообщение на {phone}: {NOTED[event.status]}"
    if event.status == "blocked" and event.reason:
        line += f" — {REASONS.get(event.reason, event.reason)}"
    if event.status == "sent" and event.text:
        line += f". Текст: «{event.text[:MAX_QUOTE]}»"
    return f"{line} [relay {event.message_id} {event.status}]"


def _marker(note: str) -> str:
    return note[note.rindex("[relay ") :]


class WooCommerceWriteback:
    """The relay's `Writeback` for WooCommerce: order notes via the REST API."""

    platform = PLATFORM
    # hand this connector every status a message went through, not only the current one
    reports_every_status = True

    def __init__(
        self,
        ctx: ConnectorContext,
        client_factory: Callable[..., WooCommerceClient] = WooCommerceClient,
    ) -> None:
        self.ctx = ctx
        self._client_factory = client_factory

    def handle(self, event: WritebackEvent) -> None:
        """Write the note, once. Raises only for transient store errors (to be retried)."""
        source = event.context.get("source") or {}
        order = event.context.get("order") or {}
        data = event.context.get("data") or {}
        order_id = str(data.get("order_id") or order.get("id") or "")
        note = note_text(event)
        if source.get("platform") != PLATFORM or not order_id or note is None:
            return  # cart reminders and consent have no order to write on
        installation = self.ctx.store.get(PLATFORM, str(source.get("account") or ""))
        if installation is None or installation.status not in WRITABLE_STATUSES:
            log.info(
                "write-back skipped: no active installation",
                extra={"account": source.get("account")},
            )
            return
        if not installation.settings.get("order_notes", True):
            return
        secrets = installation.secrets
        client = self._client_factory(
            installation.account,
            secrets.get("consumer_key", ""),
            secrets.get("consumer_secret", ""),
        )
        marker = _marker(note)
        key = f"{PLATFORM}:{installation.account}:{order_id}:{marker}"
        if not self.ctx.claims.claim(key, CLAIM_LEASE_SECONDS):
            return  # another worker writes (or wrote) this note
        try:
            if not any(marker in str(n.get("note", "")) for n in client.list_notes(order_id)):
                client.add_note(order_id, note, customer_note=False)
            self.ctx.claims.complete(key)
        except WooCommerceError as exc:
            if exc.transient or exc.auth_failed:
                self.ctx.claims.release(key)  # to be written by a later attempt
            else:
                self.ctx.claims.complete(key)  # refused for good (a deleted order): never again
            if exc.auth_failed:
                # A revoked or read-only key: stop trying until the owner sends new keys.
                self.ctx.store.set_status(PLATFORM, installation.account, "needs_reauth")
                log.warning(
                    "write-back: store refused the API key; installation needs_reauth",
                    extra={"account": installation.account, "code": exc.code},
                )
                return
            if exc.transient:
                raise  # the relay's write-back job fails and can be retried
            log.warning(
                "write-back: store refused the note",
                extra={"account": installation.account, "code": exc.code, "status": exc.status},
            )
        except BaseException:
            self.ctx.claims.release(key)  # anything unexpected: a later attempt may write it
            raise
