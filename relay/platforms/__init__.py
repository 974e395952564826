"""Platforms: the relay's side of the connectors (connectors/<platform>). Hosting them (contexts,
blueprints, write-backs), storing their installations and inbox, and reporting message statuses
back to the platform an event came from."""
