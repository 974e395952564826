"""Decisions: the step between intake and delivery. Loads the policy facts (consent, stop-list,
recent sends, time zone) for many recipients at once, so that the pure policy in relay/policy can
decide each planned or due message without touching the database."""
