"""Compliance: what the policy must respect and what proves it. The consent ledger and its
evidence, the stop-list and its administration, the audit log and its queries, and the archiving
of old messages."""
