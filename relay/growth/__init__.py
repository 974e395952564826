"""Growth: short links and their clicks, orders attributed to messages, A/B variants and the
per-mailing results (docs/architecture.md, 'Growth')."""
