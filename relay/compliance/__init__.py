"""Compliance: what the policy must respect and what proves it. The consent ledger and its
evidence, the stop-list (and its history) and its administration, the audit log and its queries,
the hash chain over all three with signed digests (chain, digests), the evidence pack of a
number (evidence_pack), the opt-out review queue (optout_review), and the archiving of old
messages."""
