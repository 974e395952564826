"""Gateway adapters speak the wire vocabulary (they import no use case): every status their
receipts map to is one a receipt may report in the message lifecycle."""

from __future__ import annotations

import pytest

from relay.messages.lifecycle import REPORTED_BY_RECEIPTS
from relay.providers import kannel, smpp_pdu, smsc, smsru, twilio


@pytest.mark.parametrize(
    "table",
    [kannel.DLR_STATUSES, smpp_pdu.RECEIPT_STATUS, smsc.STATUSES, smsru.STATUSES, twilio.STATUSES],
)
def test_gateway_receipts_map_to_lifecycle_statuses(table):
    assert {s for s in table.values() if s is not None} <= set(REPORTED_BY_RECEIPTS)
