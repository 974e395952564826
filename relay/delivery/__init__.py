"""Delivery: after the policy. Due message ids are put on RQ (queue.Dispatcher); a worker claims
each message, re-decides it at send time, sends it through a gateway (relay/providers) and records
the result; the sweeper finds what was lost or stuck. Receipts (relay/receipts) then move the
messages on."""
