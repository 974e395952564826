"""Only relay/messages/lifecycle.py writes a message's status (docs/architecture.md, 'Message
lifecycle'): an AST scan of relay/ for every way a module could write one behind its back.

What counts as writing a status: an UPDATE of the messages table whose values name `status`
(or are passed as ** or as executemany parameters, where they could), any INSERT into the
messages table (a new row carries its first status), any write to `message_history` (INSERT,
INSERT … SELECT, COPY, a MessageHistory object), a `Message(status=…)` object, an assignment to
some object's `.status` (the few objects that are not messages are named below), setattr or
set_committed_value of "status", and SQL text that updates or inserts messages or history.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LIFECYCLE = "relay/messages/lifecycle.py"
# `<target>.status = …` of things that are not messages: (module, target as written)
NOT_MESSAGES = {
    ("relay/errors.py", "self.status"),  # an HTTP status
    ("relay/providers/smpp_session.py", "self.status"),  # an SMPP command status
    ("relay/contacts/addressbook_import.py", "book.status"),  # an address book
    ("relay/contacts/imports.py", "job.status"),  # an import job
    ("relay/platforms/installations.py", "row.status"),  # a connector installation
    ("relay/campaigns/control.py", "c.status"),  # a campaign
    ("relay/campaigns/winner.py", "c.status"),  # a campaign
    ("relay/compliance/optout_review.py", "review.status"),  # an opt-out review
}
_SQL = re.compile(
    r"\b(update\s+messages\b[^;]*\bset\b[^;]*\bstatus\b|insert\s+into\s+(messages|message_history)\b"
    r"|copy\s+message_history\b)",
    re.I | re.S,
)
_DML = {"update", "insert", "pg_insert", "sqlite_insert"}


def _aliases(tree: ast.AST, model: str) -> set[str]:
    """Names that stand for a model's table in a module: the model, `X = Model.__table__`."""
    names = {model, f"{model}.__table__"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and ast.unparse(node.value) == f"{model}.__table__":
            names.update(ast.unparse(t) for t in node.targets)
    return names


def _chain_root(node: ast.AST) -> ast.AST:
    """`update(X).where(…).values(…)` → the `update(X)` call."""
    while isinstance(node, ast.Call | ast.Attribute):
        inner = node.func if isinstance(node, ast.Call) else node.value
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return node
        node = inner
    return node


def _names_status(call: ast.Call) -> bool:
    for kw in call.keywords:
        if kw.arg in (None, "status"):  # status=… or **values
            return True
    for arg in call.args:
        if isinstance(arg, ast.Dict):
            if any(isinstance(k, ast.Constant) and k.value == "status" for k in arg.keys):
                return True
            if any(k is None for k in arg.keys):
                return True
        elif not isinstance(arg, ast.Constant):
            return True  # a mapping built elsewhere may hold "status"
    return False


def violations(source: str, path: str) -> list[str]:
    """Every place in `source` that writes a message status or history row."""
    if path == LIFECYCLE:
        return []
    tree = ast.parse(source)
    messages, history = _aliases(tree, "Message"), _aliases(tree, "MessageHistory")
    found: list[str] = []

    def hit(node: ast.AST, what: str) -> None:
        found.append(f"{path}:{getattr(node, 'lineno', '?')}: {what}")

    with_values: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "values":
                root = _chain_root(node.func.value)
                with_values.add(id(root))
                if (
                    isinstance(root, ast.Call)
                    and isinstance(root.func, ast.Name)
                    and root.func.id == "update"
                    and root.args
                    and ast.unparse(root.args[0]) in messages
                    and _names_status(node)
                ):
                    hit(node, "UPDATE of messages that sets a status")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            first = ast.unparse(node.args[0]) if node.args else ""
            if isinstance(node.func, ast.Name) and node.func.id in _DML:
                if node.func.id != "update" and first in messages:
                    hit(node, "INSERT of message rows (a new row's first status)")
                if first in history:
                    hit(node, "write of message_history")
                if node.func.id == "update" and first in messages and id(node) not in with_values:
                    hit(node, "bulk UPDATE of messages by parameters (which may hold a status)")
            if func.endswith((".insert", ".update")) and func.rsplit(".", 1)[0] in history:
                hit(node, "write of message_history")
            if func.endswith(".insert") and func.rsplit(".", 1)[0] in messages:
                hit(node, "INSERT of message rows (a new row's first status)")
            if func.split(".")[-1] in ("bulk_insert", "copy_rows") and any(
                ast.unparse(a) in messages | history for a in node.args
            ):
                hit(node, "bulk write of messages or their history")
            if func in ("MessageHistory", "MessageHistory.__table__"):
                hit(node, "a MessageHistory row")
            if func == "Message" and any(kw.arg == "status" for kw in node.keywords):
                hit(node, "a Message built with a status")
            if func.split(".")[-1] in ("setattr", "set_committed_value") and any(
                isinstance(a, ast.Constant) and a.value == "status" for a in node.args
            ):
                hit(node, f"{func}(…, 'status', …)")
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for part in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(part, ast.Attribute) and part.attr == "status":
                        if (path, ast.unparse(part)) not in NOT_MESSAGES:
                            hit(node, f"assignment to {ast.unparse(part)}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _SQL.search(node.value):
                hit(node, "SQL text that writes messages or their history")
    return found


def relay_modules() -> list[Path]:
    return sorted((ROOT / "relay").rglob("*.py"))


def test_only_the_lifecycle_writes_a_message_status() -> None:
    found = []
    for path in relay_modules():
        rel = path.relative_to(ROOT).as_posix()
        if "/migrations/" in rel:
            continue  # the schema's history, not the running relay
        found += violations(path.read_text(encoding="utf-8"), rel)
    assert found == []


def test_the_lifecycle_itself_writes_statuses() -> None:
    # the scan sees the lifecycle's own writes when they are not exempted
    source = (ROOT / LIFECYCLE).read_text(encoding="utf-8")
    assert violations(source, "relay/messages/elsewhere.py")


@pytest.mark.parametrize(
    "snippet",
    [
        "session.execute(update(Message).where(Message.id == i).values(status='sent'))",
        "session.execute(update(Message).values(**values))",
        "_T = Message.__table__\nsession.execute(update(_T).values({'status': s}))",
        "session.execute(update(Message), [{'id': i, 'status': 'sent'}])",
        "session.execute(insert(Message), rows)",
        "session.execute(Message.__table__.insert(), rows)",
        "session.execute(pg_insert(Message).values(**row))",
        "bulk_insert(session, Message.__table__, rows)",
        "session.execute(insert(MessageHistory).from_select(cols, query))",
        "session.connection().execute(MessageHistory.__table__.insert(), rows)",
        "session.add(MessageHistory(message_id=i, status='sent', at=now))",
        "session.add(Message(id=i, status='queued'))",
        "msg.status = MessageStatus.SENT",
        "msg.status, msg.reason = 'blocked', 'stop_list'",
        "setattr(msg, 'status', 'sent')",
        "session.execute(text(\"UPDATE messages SET status = 'sent' WHERE id = :i\"))",
        "session.execute(text('INSERT INTO message_history (message_id) VALUES (:i)'))",
    ],
)
def test_each_way_of_writing_a_status_is_seen(snippet: str) -> None:
    assert violations(snippet, "relay/delivery/elsewhere.py"), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "session.execute(update(Message).where(Message.id.in_(ids)).values(enqueued_at=now))",
        "session.execute(update(Campaign).values(status='paused'))",
        "c.status = 'running'",
        "session.execute(select(Message.status).where(Message.status == 'sent'))",
    ],
)
def test_what_writes_no_message_status_passes(snippet: str) -> None:
    path = "relay/campaigns/control.py"
    assert violations(snippet, path) == [], snippet
