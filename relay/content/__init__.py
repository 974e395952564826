"""Content: what a tenant sends. Templates (Jinja2, sandboxed) and the flow definitions that
intake expands events through, their administration, and previews of a rendered message with its
segments and cost."""
