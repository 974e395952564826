"""Real-browser fixtures: the relay's app served by werkzeug in a thread, Debian's Chromium
driven by Playwright (never a downloaded browser), axe-core from npm for accessibility, and a
screenshot of every page visited under artifacts/screenshots/.

Without /usr/bin/chromium the browser tests are skipped — unless RELAY_TEST_REQUIRE_BROWSER=1
(CI), where that is a failure. The same goes for axe-core, installed on first use with
`npm ci` into tests/cabinet/a11y/node_modules.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
A11Y = Path(__file__).parent / "a11y"
AXE = A11Y / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
MOBILE = {"width": 375, "height": 812}


def _required() -> bool:
    return os.environ.get("RELAY_TEST_REQUIRE_BROWSER") == "1"


def _unavailable(why: str) -> None:
    if _required():
        pytest.fail(f"{why} (RELAY_TEST_REQUIRE_BROWSER=1)")
    pytest.skip(why)


def axe_path() -> Path:
    """axe-core's script, installed with npm (from package-lock.json) when missing."""
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("npm is not installed: cannot install axe-core")
        out = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=A11Y, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        if out.returncode != 0 or not AXE.exists():
            _unavailable(f"npm ci axe-core failed: {out.stderr[-500:]}")
    return AXE


_SHARED: dict[str, Any] = {}  # one Chromium per run, whichever test module asks first


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    # each module that imports this fixture gets its own session-scoped instance, and
    # Playwright's sync API cannot be started twice at once: the first one is shared
    if "chromium" in _SHARED:
        yield _SHARED["chromium"]
        return
    if not CHROMIUM.exists():
        _unavailable("no /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    axe_path()
    shutil.rmtree(SHOTS, ignore_errors=True)  # this run's pages only
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        _SHARED["chromium"] = chromium
        try:
            yield chromium
        finally:
            _SHARED.pop("chromium", None)
            chromium.close()


@dataclass
class Live:
    """A relay served for real on a loopback port."""

    url: str
    rt: Any
    tenant_ids: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def live(rt: Any) -> Iterator[Live]:
    from relay import create_app

    rt.config["SIGNUP"] = "open"
    app = create_app(runtime=rt)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="cabinet-server", daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", rt)
    finally:
        server.shutdown()
        thread.join(10)


class Visitor:
    """A browser tab that checks every page it reaches: no serious or critical axe-core
    violation, nothing wider than the 375-pixel viewport, and a screenshot saved."""

    def __init__(self, context: Any, base: str, name: str) -> None:
        self.context = context
        self.page = context.new_page()
        self.base = base
        self.name = name
        self.count = 0
        self.dialogs: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def goto(self, path: str, label: str) -> Any:
        resp = self.page.goto(self.base + path)
        self.check(label)
        return resp

    def check(self, label: str) -> None:
        """Run after every navigation (a link, a form, a redirect)."""
        page = self.page
        page.wait_for_load_state("load")
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = SHOTS / f"{self.name}-{self.count:02d}-{slug}.png"
        page.screenshot(path=str(shot), full_page=True)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        viewport = page.viewport_size["width"]
        assert width <= viewport, f"{label}: {width}px wide in a {viewport}px viewport"
        page.add_script_tag(path=str(axe_path()))
        violations = page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
                 .map(v => ({id: v.id, impact: v.impact,
                             nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))"""
        )
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not bad, f"{label}: accessibility violations {bad}"

    def submit(self, label: str, button: str | None = None) -> None:
        """Click a submit button (by its text) and check the page that comes back."""
        target = (
            self.page.get_by_role("button", name=button)
            if button
            else self.page.locator("main button[type=submit]").first
        )
        with self.page.expect_navigation():
            target.click()
        self.check(label)

    def fill(self, label: str, value: str) -> None:
        self.page.get_by_label(label, exact=True).fill(value)

    def text(self) -> str:
        return self.page.inner_text("body")


def visitor(browser: Any, live: Live, name: str, viewport: dict[str, int] | None = None) -> Visitor:
    context = browser.new_context(
        viewport=viewport or MOBILE,
        bypass_csp=True,
        locale="ru-RU",  # axe is injected inline
    )
    return Visitor(context, live.url, name)
