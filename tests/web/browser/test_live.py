"""The Live toggle and the audit-log access toggle, in a real browser."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

TENANT = "live"


def _event(ident: str, action: str = "member.invited", **fields: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "action": action,
        "actor": {"type": "user", "id": "u_lee", "name": "Lee Park", "email": "lee@live.test"},
        "description": f"Live probe {ident}",
        **fields,
    }


def _open(page: Any, server: Server, path: str = "") -> None:
    page.goto(server.session_url("owner", tenant=TENANT))
    if path:
        page.goto(f"{server.url}{path}")


def test_live_adds_new_matching_events_at_the_top_as_they_are_recorded(
    page: Any, server: Server
) -> None:
    server.record([_event("live-old-1", "member.removed")], tenant=TENANT)
    _open(page, server, "/ui?since=&action=member.removed")
    rows = page.locator("tr.event")
    expect(rows).to_have_count(1)
    live = page.locator("#live-toggle")
    expect(live).to_be_visible()
    live.click()
    expect(live).to_have_attribute("aria-pressed", "true")
    expect(page).to_have_url(re.compile(r"live=1"))
    expect(page.locator("#live-status")).to_contain_text("Live")
    server.record(
        [
            _event("live-skip", "member.invited"),
            _event("live-new-1", "member.removed"),
            _event("live-new-2", "member.removed"),
        ],
        tenant=TENANT,
    )
    expect(rows).to_have_count(3)
    ids = [rows.nth(i).get_attribute("data-event-id") for i in range(3)]
    assert ids == ["live-new-2", "live-new-1", "live-old-1"]
    expect(page.locator("#live-status")).to_contain_text("2 new events")
    # the new rows behave like the others: they expand, with their details
    page.locator('tr.event[data-event-id="live-new-2"] button.toggle').click()
    expect(page.locator("tr.details:not([hidden])").first).to_contain_text("Lee Park")
    live.click()
    expect(live).to_have_attribute("aria-pressed", "false")
    server.record([_event("live-after-off", "member.removed")], tenant=TENANT)
    page.wait_for_timeout(1500)  # let a would-be message arrive; none must
    expect(rows).to_have_count(3)


def test_live_on_an_empty_list_shows_the_first_arrivals(page: Any, server: Server) -> None:
    _open(page, server, "/ui?since=&action=member.suspended")
    expect(page.locator("tr.event")).to_have_count(0)
    page.locator("#live-toggle").click()
    expect(page.locator("#live-toggle")).to_have_attribute("aria-pressed", "true")
    server.record([_event("live-first", "member.suspended")], tenant=TENANT)
    expect(page.locator('tr.event[data-event-id="live-first"]')).to_have_count(1)
    expect(page.locator("#live-toggle")).to_have_attribute("aria-pressed", "true")


def test_an_older_page_offers_live_as_a_link_to_the_newest(page: Any, server: Server) -> None:
    server.record([_event(f"live-page-{i}", "team.renamed") for i in range(3)], tenant=TENANT)
    _open(page, server, "/ui?since=&action=team.renamed&limit=1")
    page.get_by_role("link", name=re.compile("Older")).click()
    live = page.locator("#live-toggle")
    expect(live).to_have_attribute("href", re.compile(r"live=1"))
    live.click()
    expect(page.locator("#live-toggle")).to_have_attribute("aria-pressed", "true")


def test_audit_log_access_is_hidden_behind_a_visible_toggle(page: Any, server: Server) -> None:
    _open(page, server, "/ui?since=")
    page.goto(f"{server.url}/ui?since=&kind=access")  # a second look: both are recorded
    views = page.locator('tr.event:has(.badge:text-matches("audit_log.viewed"))')
    expect(views).to_have_count(0)
    toggle = page.get_by_role("switch", name="Show audit-log access")
    expect(toggle).to_be_visible()
    toggle.click()
    expect(page).to_have_url(re.compile(r"access=shown"))
    expect(views.first).to_be_visible()
    # the choice survives applying the form
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"access=shown"))
    page.get_by_role("switch", name="Hide audit-log access").click()
    expect(views).to_have_count(0)
