"""The last status seen per order, kept with the installation and updated atomically.

Two deliveries of the same order may be processed at once by two workers, and they may arrive
out of order. The check "is this status new, is this delivery newer" and the update must be one
atomic step, or both workers could believe they saw the change first. The installation store's
only compare-and-set is `update_secrets(..., expected=...)`, so the bookkeeping lives there,
under ORDER_STATE (it is not secret; it is simply the one place with a CAS). The relay's own
event_id dedupe (`woo-<store>-<order>-<status>`) is the second line: even a lost update cannot
send the same status twice.

Only the most recent MAX_ORDERS orders are kept; an order older than that which changes again
is treated as new (its previous status is unknown), never as a repeat.
"""

from __future__ import annotations

import logging
from typing import Any

from connectors.woocommerce.mapping import PLATFORM, Seen
from shared.installations import Installation, InstallationStore

log = logging.getLogger("connectors.woocommerce.state")
ORDER_STATE = "order_state"
MAX_ORDERS = 2000
ATTEMPTS = 8


def last_seen(installation: Installation, order_id: str) -> Seen | None:
    """What was last recorded for `order_id`, or None."""
    entry = (installation.secrets.get(ORDER_STATE) or {}).get(order_id)
    if isinstance(entry, list) and len(entry) == 2 and all(isinstance(x, str) for x in entry):
        return Seen(entry[0], entry[1])
    return None


def _trimmed(state: dict[str, Any]) -> dict[str, Any]:
    if len(state) <= MAX_ORDERS:
        return state
    newest = sorted(state.items(), key=lambda item: item[1][1], reverse=True)[:MAX_ORDERS]
    return dict(newest)


def remember(store: InstallationStore, account: str, order_id: str, seen: Seen) -> bool:
    """Record `seen` for the order unless a newer delivery was recorded first.

    Returns True when written (or already there), False when a newer state won or the
    compare-and-set kept failing (logged; the relay's event_id dedupe still holds).
    """
    for _ in range(ATTEMPTS):
        installation = store.get(PLATFORM, account)
        if installation is None:
            return False
        current = installation.secrets.get(ORDER_STATE)
        state = dict(current or {})
        previous = state.get(order_id)
        if isinstance(previous, list) and len(previous) == 2:
            if previous[1] > seen.modified:
                return False  # a newer delivery of this order was recorded meanwhile
            if previous == [seen.status, seen.modified]:
                return True
        state[order_id] = [seen.status, seen.modified]
        # An installation saved before this key existed has nothing to compare against.
        expected = {ORDER_STATE: current} if current is not None else None
        if store.update_secrets(PLATFORM, account, {ORDER_STATE: _trimmed(state)}, expected):
            return True
    log.warning(
        "order state not saved after %d attempts",
        ATTEMPTS,
        extra={"account": account, "order_id": order_id},
    )
    return False
