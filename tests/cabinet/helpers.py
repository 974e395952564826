"""Driving the cabinet with Flask's test client, as a browser without JavaScript would."""

from __future__ import annotations

import re
from typing import Any

from relay.people import users
from relay.runtime import Runtime

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: Any, path: str = "/cabinet/signin") -> str:
    page = client.get(path, follow_redirects=True)
    found = CSRF_RE.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def post(client: Any, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    """POST a form with the session's CSRF token."""
    return client.post(path, data={"csrf_token": csrf(client), **(data or {})}, **kw)


def add_user(
    rt: Runtime,
    tenant_id: str,
    phone: str,
    role: str,
    password: str = "password1",
    name: str = "Пользователь",
) -> str:
    with rt.session() as s:
        user = users.create_user(s, tenant_id, phone, name, role, password, rt.now())
        s.commit()
        return user.id


def sign_in(client: Any, phone: str, password: str = "password1") -> Any:
    resp = post(client, "/cabinet/signin", {"phone": phone, "password": password})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return resp


def text(resp: Any) -> str:
    return resp.get_data(as_text=True)
