"""The viewer in Debian's chromium, driven by Playwright, against a real ``sealtrail serve``.

Nothing downloads a browser: Playwright launches ``/usr/bin/chromium``. Without
it (or without Playwright) these tests skip with the reason, except under
``CI=true``, where they fail: CI must run them (``.ci/run`` installs chromium).

One server per session on a free port, on its own SQLite file; the tests share
it, so each works in its own tenant or filters to the events it made.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.events import now_micros
from sealtrail.sessions import SessionRequest, Sessions, ViewerUser
from sealtrail.settings import Settings
from sealtrail.store import open_store
from tests.keys import quiet_api_key

from .. import sample

MINT_SCOPES = "events:write,events:read,viewer:mint"

CHROMIUM = os.environ.get("SEALTRAIL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# acme for most tests; northwind and northwind-phone only for the screenshots, so
# their first view is of the sample alone; empty for paging; a11y and views for the
# accessibility and saved-view tests.
TENANTS = {
    "acme": "Acme Robotics",
    "northwind": "Northwind Studio",
    "northwind-phone": "Northwind Studio",
    "empty": "Empty Co",
    # the accessibility and saved-view tests' own, so their records stay out of acme's list
    "a11y": "Acme Robotics",
    "views": "Acme Robotics",
    "live": "Live Co",  # the Live toggle's tests record into it as they go
    "alerts": "Alerts Co",  # the alerts panel's test: its own alert events stay here
    "alerts-ack": "Alerts Co",  # acknowledging and resolving from the panel
}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser tests, but {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sealtrail serve exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # polling interval, not a wait for a guessed duration
    raise TimeoutError(f"sealtrail serve did not become ready at {url}")


@dataclass
class Server:
    url: str
    settings: Settings
    keys: dict[str, str]
    client: httpx.Client = field(default_factory=httpx.Client)

    def headers(self, tenant: str = "acme") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[tenant]}"}

    def record(self, events: list[dict[str, Any]], tenant: str = "acme") -> None:
        response = self.client.post(
            f"{self.url}/v1/events", json={"events": events}, headers=self.headers(tenant)
        )
        assert response.status_code == 201, response.text

    def session_url(
        self, role: str = "owner", tenant: str = "acme", name: str = "Maya Chen", **extra: Any
    ) -> str:
        user = {"id": f"usr_{role}", "email": f"{role}@acmerobotics.com", "name": name}
        response = self.client.post(
            f"{self.url}/v1/viewer-sessions",
            json={"user": user, "role": role, **extra},
            headers=self.headers(tenant),
        )
        assert response.status_code == 201, response.text
        url: str = response.json()["url"]
        return url

    def past_session(self, tenant: str = "acme") -> tuple[str, str]:
        """The link of a session minted an hour ago for a minute, never opened, and the
        cookie of another such session that was opened then."""
        store = open_store(self.settings.database_url)
        try:
            sessions = Sessions(store)
            past = now_micros() - 3600 * 1_000_000
            request = SessionRequest(ViewerUser("usr_late", "late@x.com"), "owner", None)
            _, unused = sessions.mint(tenant, request, 60, 60, past)
            _, link = sessions.mint(tenant, request, 60, 60, past)
            _, cookie = sessions.redeem(link, past + 1_000_000)
        finally:
            store.close()
        return f"{self.url}/ui/session?token={unused}", cookie

    def expired_url(self, tenant: str = "acme") -> str:
        return self.past_session(tenant)[0]

    def expired_cookie(self, tenant: str = "acme") -> str:
        return self.past_session(tenant)[1]

    def api_export(self, tenant: str = "acme", **params: str) -> bytes:
        response = self.client.get(
            f"{self.url}/v1/events/export",
            params={"format": "csv", **params},
            headers=self.headers(tenant),
        )
        assert response.status_code == 200, response.text
        return response.content


def open_link(page: Any, url: str) -> None:
    """Follow a session link as a browser does: its page goes on to /ui by itself."""
    page.goto(url)
    page.wait_for_url(lambda address: "/ui/session" not in address)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("serve")
    settings = Settings(
        database_url=f"sqlite:///{home / 'viewer.db'}",
        signing_key_file=str(home / "signing.key"),
        port=_free_port(),
    )
    log = AuditLog.open(settings=settings)
    log.migrate()
    keys = {}
    for tenant, name in TENANTS.items():
        log.create_tenant(tenant, name)
        keys[tenant] = quiet_api_key(
            log.database_url, tenant, "events:write,events:read,viewer:mint"
        )
    log.close()
    env = {
        **os.environ,
        "SEALTRAIL_DATABASE_URL": settings.database_url,
        "SEALTRAIL_SIGNING_KEY_FILE": settings.signing_key_file,
        # The sample week's times follow the clock: which of its events a built-in rule
        # would alert on (and add alert events for) would change with the hour of the run.
        "SEALTRAIL_DETECTIONS": "false",
    }
    env.pop("SEALTRAIL_CONFIG", None)
    executable = shutil.which("sealtrail", path=str(Path(sys.executable).parent))
    entry = (
        [executable]
        if executable
        else [sys.executable, "-c", "from sealtrail.cli import main; main()"]
    )
    command = [*entry, "serve", "--port", str(settings.port)]
    log_file = (home / "serve.log").open("wb")
    process = subprocess.Popen(command, cwd=home, env=env, stdout=log_file, stderr=log_file)
    url = f"http://127.0.0.1:{settings.port}"
    try:
        try:
            _wait_ready(url, process)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n{(home / 'serve.log').read_text()}") from exc
        found = Server(url, settings, keys)
        found.record(sample.events())
        found.record(sample.events(), tenant="northwind")
        found.record(sample.events(), tenant="northwind-phone")
        found.record(sample.events(), tenant="a11y")
        found.record(sample.events(), tenant="views")
        yield found
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()


# Per module, not per session: while Playwright's sync API runs, its event loop counts as
# running in the main thread, so an SDK test that calls asyncio.run() later on the same
# xdist worker would fail ("cannot be called from a running event loop").
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        _unavailable(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh desktop browser context (its own cookies); fails the test on a CSP report."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: problems.append(str(e)))

    def refuse(dialog: Any) -> None:
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    opened.on("dialog", refuse)
    yield opened
    context.close()
    # "Failed to load resource" is Chromium noting a 4xx page, which some tests expect.
    assert not [p for p in problems if not p.startswith("Failed to load resource")], problems


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A 390 × 844 touch phone (an iPhone 14's CSS viewport)."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    opened = context.new_page()
    yield opened
    context.close()
