"""A 390-px phone, and the screenshots in docs/screenshots (taken by this browser).

The screenshots are written to ``$SEALTRAIL_SCREENSHOTS`` when it is set
(``make screenshots`` sets it to docs/screenshots) and to
a temporary directory otherwise, so an ordinary test run leaves the tree clean.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .. import sample
from .conftest import Server, open_link

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    wanted = os.environ.get("SEALTRAIL_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"


def test_a_phone_gets_one_card_per_event(phone: Any, server: Server, shots: Path) -> None:
    open_link(phone, server.session_url(tenant="northwind-phone", name="Maya Chen"))
    expect(phone.locator("tr.event").first).to_be_visible()
    _no_sideways_scroll(phone)
    assert phone.locator("#events > thead").evaluate("t => getComputedStyle(t).display") == "none"
    first = phone.locator("tbody.event-group").first.bounding_box()
    assert first is not None and first["width"] <= 390 and first["x"] >= 0
    button = phone.locator("#export-csv")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 36  # a thumb-sized target
    expect(phone.locator("#f-action")).to_be_hidden()  # a phone opens on the events
    phone.screenshot(animations="disabled", path=str(shots / "viewer-phone.png"))
    phone.locator("#filters-title").tap()
    expect(phone.locator("#f-action")).to_be_visible()
    phone.screenshot(animations="disabled", path=str(shots / "viewer-phone-filters.png"))
    phone.locator("#filters-title").tap()
    row = phone.locator(f'tr.event[data-event-id="{sample.ROLE_CHANGE_ID}"]')
    row.locator(".c-description").tap()
    details = phone.locator("tr.details:visible")
    expect(details).to_contain_text("req_01HXYZ8K2M")
    expect(details.locator(".proof-ok")).to_be_visible()
    _no_sideways_scroll(phone)
    group = phone.locator("tbody.event-group").first
    group.screenshot(animations="disabled", path=str(shots / "viewer-phone-expanded.png"))


def test_desktop_screenshots(browser: Any, server: Server, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    open_link(page, server.session_url(tenant="northwind", name="Maya Chen"))
    expect(page.locator("tr.event").first).to_be_visible()
    page.screenshot(animations="disabled", path=str(shots / "viewer-desktop.png"))
    row = page.locator(f'tr.event[data-event-id="{sample.ROLE_CHANGE_ID}"]')
    row.get_by_role("button").click()
    expect(page.locator("tr.details:visible .proof-ok")).to_be_visible()
    group = page.locator("tbody.event-group").first
    group.screenshot(animations="disabled", path=str(shots / "viewer-expanded.png"))
    page.goto(f"{server.url}/ui?phrase=action:member.*+colour:blue")
    filters = page.locator(".filters")
    filters.screenshot(animations="disabled", path=str(shots / "viewer-phrase-error.png"))
    _saved_views(page, server, shots)
    context.close()
    for name in (
        "viewer-desktop.png",
        "viewer-expanded.png",
        "viewer-phrase-error.png",
        "viewer-saved-views.png",
    ):
        assert (shots / name).stat().st_size > 10_000


def _saved_views(page: Any, server: Server, shots: Path) -> None:
    """The saved-views menu with a shared and a private view (saved from the menu), in a
    tenant of its own so that the other pictures show the sample alone."""
    page.goto(server.session_url(tenant="views", name="Maya Chen"))
    for name, query, shared in (
        ("Failed sign-ins", "phrase=action:auth.*+outcome:failure", True),
        ("Member changes", "action=member.role_changed", False),
    ):
        page.goto(f"{server.url}/ui?{query}")
        page.locator(".saved-toggle").click()
        page.locator("#sv-name").fill(name)
        if shared:
            page.get_by_label("Share with").check()
        page.locator(".saved-form").get_by_role("button", name="Save").click()
        expect(page.locator(".saved-current h2")).to_contain_text(name)
    page.locator(".saved-toggle").click()
    page.locator("#sv-name").fill("Deletions this month")
    head = page.locator(".page-head").bounding_box()
    panel = page.locator(".saved-panel").bounding_box()
    assert head is not None and panel is not None
    bottom = panel["y"] + panel["height"] + 16
    page.screenshot(
        animations="disabled",
        path=str(shots / "viewer-saved-views.png"),
        clip={"x": 0, "y": 0, "width": 1440, "height": bottom},
    )
