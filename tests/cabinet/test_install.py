"""What a newcomer gets: `relay up` prints the cabinet and the demo owner's credentials, and a
plain (non-editable) install carries the templates, styles and translations."""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import requests

from relay.cabinet.i18n import compiled_translations

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_relay_up_prints_the_cabinet_and_the_demo_owner_who_can_sign_in(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "relay.cli", "up", "--port", str(port), "--workers", "1"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        owner_file = tmp_path / "var" / "demo_owner"
        assert stat.S_IMODE(owner_file.stat().st_mode) == 0o600
        saved = dict(line.split(": ", 1) for line in owner_file.read_text().splitlines())
        browser = requests.Session()
        page = browser.get(base + "/cabinet/signin", timeout=10)
        assert page.status_code == 200 and "Вход в кабинет" in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        signed = browser.post(
            base + "/cabinet/signin",
            data={"csrf_token": token, "phone": saved["phone"], "password": saved["password"]},
            timeout=10,
        )
        assert signed.status_code == 200 and "<h1>Главная</h1>" in signed.text
        assert '<span class="tenant">demo</span>' in signed.text
        assert browser.get(base + "/cabinet/signup", timeout=10).status_code == 200  # open
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert f"cabinet: {base}/cabinet/" in out
    assert f"phone {saved['phone']}, password {saved['password']}" in out


def test_a_built_wheel_carries_the_cabinet_and_its_translations_work(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("relay", "shared", "connectors"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(src)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    [wheel] = (tmp_path / "dist").glob("relay-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "installed")
    for needed in (
        "relay/cabinet/templates/cabinet/base.html",
        "relay/cabinet/templates/cabinet/_macros.html",
        "relay/cabinet/static/cabinet.css",
        "relay/cabinet/static/cabinet.js",
        "relay/cabinet/static/vendor/chartjs/chart.umd.min.js",
        "relay/cabinet/translations/ru/LC_MESSAGES/messages.po",
        "relay/storage/migrations/versions/0007_people_users_invitations_verification_codes.py",
    ):
        assert needed in names, needed
    compiled = compiled_translations(tmp_path / "installed" / "relay" / "cabinet" / "translations")
    import gettext

    with open(compiled / "ru" / "LC_MESSAGES" / "messages.mo", "rb") as fh:
        ru = gettext.GNUTranslations(fh)
    assert ru.gettext("Sign in to the cabinet") == "Вход в кабинет"


def test_the_operator_invites_a_first_owner(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    env.update(RELAY_HOME=str(tmp_path), RELAY_PUBLIC_URL="https://relay.example")

    def relay(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "relay.cli", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    assert relay("db", "upgrade").returncode == 0
    assert relay("tenants", "create", "shop", "--region", "KZ").returncode == 0
    out = relay("invitations", "create", "shop", "--role", "owner", "--json")
    assert out.returncode == 0, out.stderr
    import json

    link = json.loads(out.stdout)
    assert link["role"] == "owner"
    assert re.fullmatch(r"https://relay\.example/cabinet/invite/[\w-]{20,}", link["url"])
    missing = relay("invitations", "create", "nope")
    assert missing.returncode == 2 and "nope" in missing.stderr
