"""The composition root: the one place that wires a process's parts together.

`build_runtime` connects the infrastructure (`relay.runtime`) and attaches the hooks that tie the
use cases to each other without their importing each other: receipts and inbound messages that a
gateway pushes on its own connection go to relay/receipts and relay/replies, and the after-commit
hooks dispatch new messages, queue inbound handling and report status changes to platforms.
`get_runtime` keeps the process's runtime (built on first use, with the connectors installed) for
RQ jobs, which receive ids only. The app factory, the CLI, the worker and `relay.jobs` import
this module; nothing that they wire imports it back.
"""

from __future__ import annotations

import os
from typing import Any

from relay.compliance.chain import install as install_chain
from relay.platforms.connectors_host import install_connectors
from relay.platforms.writeback import watch_status_changes
from relay.replies.inbound import gateway_hooks
from relay.runtime import Runtime, connect_runtime


def build_runtime(config: dict[str, Any] | None = None) -> Runtime:
    """Build a runtime from the environment plus overrides, with its hooks attached."""
    runtime = connect_runtime(config)
    install_chain()  # consent, stop-list changes and audit entries join their tenant's chain
    runtime.providers.hooks = lambda name: gateway_hooks(runtime, name)
    watch_status_changes(runtime)
    return runtime


_RUNTIME: Runtime | None = None


def set_runtime(runtime: Runtime | None) -> None:
    """Install the process-wide runtime (worker start-up, tests)."""
    global _RUNTIME
    _RUNTIME = runtime


def get_runtime() -> Runtime:
    """The process-wide runtime, built from the environment on first use."""
    global _RUNTIME
    if _RUNTIME is None:
        _RUNTIME = build_runtime()
        os.environ.setdefault("RELAY_REDIS_URL", _RUNTIME.config["REDIS_URL"])
        install_connectors(_RUNTIME)
    return _RUNTIME
