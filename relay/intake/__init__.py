"""Intake: the first step of the flow. A platform event is checked, stored once (idempotent by
event id) and expanded through the tenant's flows into planned messages, which then go to the
policy (relay/decisions, relay/policy) and become message rows (relay/messages)."""
