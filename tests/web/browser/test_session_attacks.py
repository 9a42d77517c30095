"""Viewer sessions attacked from Chromium: a second local origin (another port of the same
host, so the *same site*, the hardest case) serves the attacker's pages.

What must hold: a session link opens once (the copy in the browser's history, or in
curl, opens nothing); a signed-out or revoked session stops at once; a top-level link
from another site to ``/ui/export`` and an ``<img>`` from another port neither export
nor record anything; another user's link asks before it replaces the session; only
the origins a tenant names may frame its viewer.
"""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from sealtrail.audit_log import AuditLog

from .. import sample
from .conftest import Server, _free_port, open_link

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@dataclass
class Attacker:
    """Pages served from http://127.0.0.1:<another port>/<name>."""

    url: str
    pages: dict[str, str] = field(default_factory=dict)

    def serve(self, name: str, body: str) -> str:
        self.pages[name] = f"<!doctype html><html><body>{body}</body></html>"
        return f"{self.url}/{name}"


@pytest.fixture(scope="module")
def attacker() -> Iterator[Attacker]:
    port = _free_port()
    site = Attacker(f"http://127.0.0.1:{port}")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = site.pages.get(self.path.lstrip("/"))
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield site
    httpd.shutdown()
    httpd.server_close()


@dataclass
class Tenant:
    """A tenant of its own for one test, so the access records counted are its alone."""

    id: str
    key: str
    server: Server

    def link(
        self, role: str = "owner", user: str = "usr_owner", name: str = "Olivia"
    ) -> dict[str, Any]:
        response = self.server.client.post(
            f"{self.server.url}/v1/viewer-sessions",
            json={"user": {"id": user, "name": name}, "role": role},
            headers={"Authorization": f"Bearer {self.key}"},
        )
        assert response.status_code == 201, response.text
        minted: dict[str, Any] = response.json()
        return minted

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key}"}
        return self.server.client.request(
            method, f"{self.server.url}{path}", headers=headers, **kwargs
        )

    def recorded(self, action: str) -> int:
        response = self.api("GET", "/v1/events", params={"action": action, "limit": "200"})
        assert response.status_code == 200, response.text
        return len(response.json()["events"])


_counter = iter(range(1, 1_000_000))


def _tenant(server: Server, framing: tuple[str, ...] = ()) -> Tenant:
    tenant_id = f"attack-{next(_counter)}"
    log = AuditLog.open(settings=server.settings)
    try:
        log.create_tenant(tenant_id, f"Target {tenant_id}")
        key = log.create_api_key(tenant_id, "events:write,events:read,viewer:mint").plain
        if framing:
            log.set_frame_ancestors(tenant_id, framing)
    finally:
        log.close()
    tenant = Tenant(tenant_id, key, server)
    response = tenant.api("POST", "/v1/events", json={"events": sample.events()})
    assert response.status_code == 201, response.text
    return tenant


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A browser profile of its own (cookies, history), console errors allowed: blocked
    frames and refused requests log some on purpose."""
    opened = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    yield opened
    opened.close()


def _whoami(page: Any) -> str:
    text: str = page.locator(".whoami-name").inner_text()
    return text


def test_the_host_products_link_opens_the_viewer(
    context: Any, server: Server, attacker: Attacker
) -> None:
    """The one cross-site request the viewer answers: the link, from the host product's
    page (here the other origin plays the host product)."""
    tenant = _tenant(server)
    viewed = tenant.recorded("audit_log.viewed")
    page = context.new_page()
    page.goto(attacker.serve("host.html", f'<a id="go" href="{tenant.link()["url"]}">Audit</a>'))
    page.click("#go")
    page.wait_for_url(f"{server.url}/ui")
    assert _whoami(page) == "Olivia"
    expect(page.locator("tr.event").first).to_be_visible()
    assert tenant.recorded("audit_log.viewed") == viewed + 1


def test_a_link_in_the_history_opens_nothing_again(
    context: Any, browser: Any, server: Server
) -> None:
    tenant = _tenant(server)
    minted = tenant.link()
    page = context.new_page()
    open_link(page, minted["url"])
    assert page.url == f"{server.url}/ui"
    assert _whoami(page) == "Olivia"
    # The same link from the browser's history, in this browser or another one…
    again = context.new_page()
    again.goto(minted["url"])
    expect(again.get_by_role("heading", level=1)).to_have_text("This link was already used")
    other = browser.new_context()
    try:
        thief = other.new_page()
        thief.goto(minted["url"])
        expect(thief.get_by_role("heading", level=1)).to_have_text("This link was already used")
        thief.goto(f"{server.url}/ui")
        expect(thief.get_by_role("heading", level=1)).to_have_text(
            "Open the audit log from your product"
        )
    finally:
        other.close()
    # …or from a plain HTTP client.
    curl = httpx.get(minted["url"])
    assert curl.status_code == 401
    assert "set-cookie" not in curl.headers
    # The first browser is still signed in: a used link does not end the session.
    page.reload()
    assert _whoami(page) == "Olivia"


def test_sign_out_ends_the_session_everywhere(context: Any, browser: Any, server: Server) -> None:
    tenant = _tenant(server)
    page = context.new_page()
    open_link(page, tenant.link()["url"])
    cookie = context.cookies()[0]
    assert cookie["name"] == "sealtrail_viewer"
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're signed out")
    # The cookie copied before signing out (another tab, a stolen copy) opens nothing.
    other = browser.new_context()
    try:
        other.add_cookies([cookie])
        stolen = other.new_page()
        response = stolen.goto(f"{server.url}/ui")
        assert response is not None and response.status == 401
        expect(stolen.get_by_role("heading", level=1)).to_have_text("This session has ended")
    finally:
        other.close()
    api = httpx.get(f"{server.url}/v1/events", cookies={cookie["name"]: cookie["value"]})
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "session_revoked"


def test_a_session_the_host_revokes_stops_on_the_next_click(context: Any, server: Server) -> None:
    tenant = _tenant(server)
    minted = tenant.link()
    page = context.new_page()
    open_link(page, minted["url"])
    expect(page.locator("tr.event").first).to_be_visible()
    assert tenant.api("DELETE", f"/v1/viewer-sessions/{minted['session_id']}").status_code == 204
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This session has ended")
    expect(page.locator("table")).to_have_count(0)


def test_the_cookie_lives_as_long_as_the_session(context: Any, server: Server) -> None:
    tenant = _tenant(server)
    minted = tenant.link()
    page = context.new_page()
    open_link(page, minted["url"])
    cookie = context.cookies()[0]
    from datetime import datetime

    ends = datetime.fromisoformat(minted["expires_at"].replace("Z", "+00:00")).timestamp()
    assert ends - 5 <= cookie["expires"] <= ends + 1


def test_another_site_cannot_export_or_record(
    context: Any, server: Server, attacker: Attacker
) -> None:
    tenant = _tenant(server)
    page = context.new_page()
    open_link(page, tenant.link()["url"])
    exported = tenant.recorded("audit_log.exported")
    viewed = tenant.recorded("audit_log.viewed")
    # A top-level link on another site, clicked by the signed-in user.
    export_url = f"{server.url}/ui/export?since="
    trap = attacker.serve("link.html", f'<a id="go" href="{export_url}">Your invoice</a>')
    page.goto(trap)
    with page.expect_navigation():
        page.click("#go")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Open the audit log from its own page"
    )
    assert page.url.startswith(f"{server.url}/ui/export")
    # Images from another port of the same site: the cookie goes along (SameSite=Lax
    # sees one site), the answer is refused all the same.
    images = "".join(
        f'<img src="{server.url}{path}">'
        for path in (
            "/ui/export?since=",
            "/ui?phrase=action:member.*",
            f"/ui/events/{sample.ROLE_CHANGE_ID}",
            "/v1/events/export?format=csv",
            "/v1/events?action=member.role_changed",
        )
    )
    page.goto(attacker.serve("images.html", images))
    page.wait_for_function("Array.from(document.images).every(i => i.complete)")
    # A script on the other port, reading with the cookie.
    fetched = page.evaluate(
        """async (url) => {
            try {
                const r = await fetch(url, {credentials: "include"});
                return r.status;
            } catch (e) { return "blocked"; }
        }""",
        f"{server.url}/v1/events",
    )
    assert fetched in (403, "blocked")
    assert tenant.recorded("audit_log.exported") == exported
    assert tenant.recorded("audit_log.viewed") == viewed
    # From the viewer's own page, the same export works and is recorded.
    page.goto(f"{server.url}/ui")
    expect(page.locator("tr.event").first).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Export CSV")).click()
    assert download.value.suggested_filename.endswith(".csv")
    assert tenant.recorded("audit_log.exported") == exported + 1


def test_another_users_link_asks_first(context: Any, server: Server, attacker: Attacker) -> None:
    victim_tenant = _tenant(server)
    intruder_tenant = _tenant(server)
    page = context.new_page()
    open_link(page, victim_tenant.link(user="usr_victim", name="Victoria")["url"])
    assert _whoami(page) == "Victoria"
    intruder = intruder_tenant.link(user="usr_mallory", name="Mallory")
    trap = attacker.serve("switch.html", f'<a id="go" href="{intruder["url"]}">Open</a>')
    page.goto(trap)
    with page.expect_navigation():
        page.click("#go")
    expect(page.locator('[data-reason="confirm_switch"]')).to_be_visible()
    expect(page.locator("main")).to_contain_text("Mallory")
    page.locator("[data-stay]").click()
    page.wait_for_url(f"{server.url}/ui")
    assert _whoami(page) == "Victoria"
    # Asked again, the user chooses to switch: then, and only then, it switches.
    page.goto(intruder["url"])
    page.locator("[data-switch]").click()
    page.wait_for_url(f"{server.url}/ui")
    assert _whoami(page) == "Mallory"


def test_only_the_tenants_origins_may_frame_the_viewer(
    context: Any, server: Server, attacker: Attacker
) -> None:
    framed = _tenant(server, framing=(attacker.url,))
    unframed = _tenant(server)
    page = context.new_page()
    allowed = framed.link(name="Framed")["url"]
    refused = unframed.link(name="Unframed")["url"]
    page.goto(
        attacker.serve(
            "frame.html", f'<iframe id="f" src="{allowed}" width="1200" height="700"></iframe>'
        )
    )
    frame = page.frame_locator("#f")
    expect(frame.locator(".whoami-name")).to_have_text("Framed")
    expect(frame.locator("tr.event").first).to_be_visible()
    page.goto(
        attacker.serve(
            "frame2.html", f'<iframe id="f" src="{refused}" width="1200" height="700"></iframe>'
        )
    )
    page.wait_for_load_state("load")
    child = page.frames[1]
    assert "Unframed" not in child.content()
