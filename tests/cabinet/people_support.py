"""Helpers for the cabinet tests: codes read from the sandbox, as a person reads their SMS."""

from __future__ import annotations

import re
from typing import Any

from relay.runtime import Runtime
from tests.support.factories import run_worker, sandbox_sends

CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def code_sent_to(rt: Runtime, phone: str, *, drain: bool = True) -> str:
    """The last verification code the sandbox was asked to send to `phone` (the worker runs
    first, as in production: the code goes out only through the delivery path)."""
    if drain:
        run_worker(rt)
    texts = [s["text"] for s in sandbox_sends(rt) if s["phone"] == phone]
    assert texts, f"the sandbox sent nothing to that number ({len(sandbox_sends(rt))} sends)"
    found = CODE_RE.search(texts[-1])
    assert found, "the last text to that number carries no 6-digit code"
    return found.group(1)


def sends_to(rt: Runtime, phone: str) -> list[dict[str, Any]]:
    return [s for s in sandbox_sends(rt) if s["phone"] == phone]
