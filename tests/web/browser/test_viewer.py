"""The viewer page in a real browser: what each role sees, filtering, rows, badges, export."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .. import sample
from .conftest import Server, open_link

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

NOT_VIEWS = "-category:audit_log"  # leave out the views and exports other tests make


def open_as(page: Any, server: Server, role: str = "owner", **extra: Any) -> None:
    open_link(page, server.session_url(role, **extra))


def test_the_session_link_lands_on_the_log_without_the_token(page: Any, server: Server) -> None:
    open_as(page, server, "owner")
    assert re.fullmatch(rf"{re.escape(server.url)}/ui/?", page.url)
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    expect(page.locator(".whoami")).to_contain_text("Owner")
    cookies = page.context.cookies()
    assert [c["name"] for c in cookies] == ["sealtrail_viewer"]
    assert cookies[0]["httpOnly"] is True
    assert cookies[0]["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""


def test_filtering_keeps_the_filters_in_the_url(page: Any, server: Server) -> None:
    open_as(page, server, "admin")
    page.select_option("#f-action", "member.role_changed")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"action=member\.role_changed"))
    rows = page.locator("tr.event")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".badge")).to_have_text(re.compile("member.role_changed"))
    expect(page.locator("#result-count")).to_contain_text("1 event matches")
    shared = page.url
    page.fill("#f-actor", "maya@acmerobotics.com")
    page.select_option("#f-action", "")
    page.fill("#f-phrase", NOT_VIEWS)
    page.press("#f-phrase", "Enter")
    page.wait_for_url(re.compile(r"actor=maya%40acmerobotics\.com"))
    mayas = [e for e in sample.events() if e["actor"] is sample.MAYA]
    expect(rows).to_have_count(len(mayas))
    page.goto(shared)  # a shared link reproduces the view
    expect(rows).to_have_count(1)
    expect(page.locator("#f-action")).to_have_value("member.role_changed")


def test_a_bad_phrase_shows_its_error_inline(page: Any, server: Server) -> None:
    open_as(page, server)
    page.fill("#f-phrase", "action:member.* colour:blue")
    page.press("#f-phrase", "Enter")
    error = page.locator("#e-phrase")
    expect(error).to_be_visible()
    expect(error).to_contain_text("unknown key")
    expect(error.locator("mark")).to_have_text("colour:blue")
    expect(page.locator("#f-phrase")).to_be_focused()
    assert page.evaluate("document.getElementById('f-phrase').selectionStart") == 16
    expect(page.locator("tr.event")).to_have_count(0)


def test_a_row_expands_on_click_and_from_the_keyboard(page: Any, server: Server) -> None:
    open_as(page, server)
    page.goto(f"{server.url}/ui?since=&phrase={NOT_VIEWS}")
    row = page.locator(f'tr.event[data-event-id="{sample.ROLE_CHANGE_ID}"]')
    toggle = row.get_by_role("button")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    details = page.locator("#" + toggle.get_attribute("aria-controls"))
    expect(details).to_be_hidden()
    row.locator(".c-description").click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(details).to_be_visible()
    for text in (
        "user:usr_daniel",
        "user:usr_tom",
        "workspace:ws_hq_main_91ab",
        "203.0.113.10",
        "Firefox/125.0",
        "acme",
        "acc_hq",
        "req_01HXYZ8K2M",
        '"previous_role": "member"',
    ):
        expect(details).to_contain_text(text)
    diff = details.locator("table.diff")
    expect(diff.locator("del")).to_have_text("member")
    expect(diff.locator("ins")).to_have_text("admin")
    expect(details.locator(".proof-ok")).to_contain_text("Verified")
    row.locator(".c-description").click()
    expect(details).to_be_hidden()

    second = page.locator("tr.event").nth(1).get_by_role("button")
    second.focus()
    page.keyboard.press("Enter")
    expect(second).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Space")
    expect(second).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("j")
    third = page.locator("tr.event").nth(2).get_by_role("button")
    expect(third).to_be_focused()
    page.keyboard.press("Enter")
    expect(third).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    expect(third).to_have_attribute("aria-expanded", "false")
    expect(third).to_be_focused()


def test_focus_is_visible(page: Any, server: Server) -> None:
    open_as(page, server)
    page.locator("tr.event").first.get_by_role("button").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    outline = page.evaluate(
        "getComputedStyle(document.activeElement).outlineStyle + ' '"
        " + getComputedStyle(document.activeElement).outlineWidth"
    )
    assert outline.startswith("solid") and outline != "solid 0px"


def _rgb(text: str) -> tuple[int, int, int]:
    found = re.match(r"rgba?\((\d+), (\d+), (\d+)", text)
    assert found, text
    r, g, b = (int(v) for v in found.groups())
    return r, g, b


def test_badges_are_colour_coded(page: Any, server: Server) -> None:
    open_as(page, server)
    page.goto(f"{server.url}/ui?since=")
    colours: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {}
    for kind in ("create", "update", "delete", "access", "other"):
        badge = page.locator(f".badge[data-kind={kind}]").first
        expect(badge).to_be_visible()
        style = badge.evaluate(
            "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]"
        )
        colours[kind] = (_rgb(style[0]), _rgb(style[1]))
        expect(badge.locator(".sr-only")).to_have_text(re.compile(kind, re.IGNORECASE))
    (r, g, b), (tr, tg, tb) = colours["create"]
    assert g > r and g > b and tg > tr and tg > tb  # green
    (r, g, b), (tr, tg, tb) = colours["update"]
    assert b > r and b > g and tb > tr and tb > tg  # blue
    (r, g, b), (tr, tg, tb) = colours["delete"]
    assert r > g and r > b and tr > tg and tr > tb  # red
    (r, g, b), _ = colours["access"]
    assert max(r, g, b) - min(r, g, b) <= 12  # grey
    assert len({c[0] for c in colours.values()}) == 5


def test_export_is_disabled_when_nothing_matches(page: Any, server: Server) -> None:
    open_as(page, server)
    page.goto(f"{server.url}/ui?action=voice_clone.deleted")
    export = page.locator("#export-csv")
    expect(export).to_be_disabled()
    expect(export).to_have_attribute("aria-disabled", "true")
    assert export.evaluate("e => e.tagName") == "BUTTON"
    expect(page.locator("#empty-state")).to_contain_text("No events match these filters")
    expect(page.locator("#empty-state")).to_contain_text("voice_clone.deleted")


def test_export_downloads_exactly_what_the_filters_match(page: Any, server: Server) -> None:
    open_as(page, server)
    page.goto(f"{server.url}/ui?since=&kind=update")
    export = page.get_by_role("link", name="Export CSV")
    expect(export).to_be_enabled()
    with page.expect_download() as info:
        export.click()
    download = info.value
    assert download.suggested_filename.startswith("sealtrail-acme-")
    body = Path(download.path()).read_bytes()
    assert body == server.api_export(kind="update")
    records = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    shown = page.locator("tr.event").evaluate_all("rows => rows.map(r => r.dataset.eventId)")
    assert [r["id"] for r in records] == shown
    assert {r["kind"] for r in records} == {"update"}


def test_an_account_admin_sees_only_their_accounts(page: Any, server: Server) -> None:
    open_as(page, server, "account_admin", account_ids=["acc_eu"])
    expect(page.locator(".scope-note")).to_contain_text("acc_eu")
    page.goto(f"{server.url}/ui?since=")
    eu = [e for e in sample.events() if e.get("account_id") == "acc_eu"]
    rows = page.locator("tr.event")
    expect(rows).to_have_count(len(eu))
    expect(page.locator("#result-count")).to_contain_text(f"{len(eu)} events match")
    rows.first.click()
    expect(page.locator("tr.details:visible")).to_contain_text("acc_eu")
    assert "acc_hq" not in page.locator("#events").inner_text()
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    records = list(csv.DictReader(io.StringIO(text)))
    assert len(records) == len(eu)
    assert {r["account_id"] for r in records} == {"acc_eu"}
    page.goto(f"{server.url}/ui/events/{sample.ROLE_CHANGE_ID}")
    expect(page.get_by_role("heading", name="Event not found")).to_be_visible()


def test_a_member_is_turned_away_without_event_data(page: Any, server: Server) -> None:
    open_as(page, server, "member")
    assert page.url == f"{server.url}/ui/not-allowed"
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You don't have access to the audit log"
    )
    expect(page.locator("table")).to_have_count(0)
    content = page.content()
    for secret in ("member.role_changed", "Tom Becker", "203.0.113.10"):
        assert secret not in content
    page.goto(f"{server.url}/ui")
    assert page.url == f"{server.url}/ui/not-allowed"


def test_an_expired_session_gets_a_clear_page(page: Any, server: Server) -> None:
    response = page.goto(server.expired_url())
    assert response is not None and response.status == 401
    expect(page.get_by_role("heading", level=1)).to_have_text("This session has expired")
    expect(page.locator("table")).to_have_count(0)
    page.goto(f"{server.url}/ui")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Open the audit log from your product"
    )


def test_a_session_that_ends_while_the_page_is_open(page: Any, server: Server) -> None:
    open_as(page, server)
    expired = server.expired_cookie()
    cookie = page.context.cookies()[0]
    page.context.add_cookies([{**cookie, "value": expired}])  # as if 15 minutes went by
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This session has expired")
    expect(page.locator("table")).to_have_count(0)


def test_hostile_content_shows_as_text(page: Any, server: Server) -> None:
    open_as(page, server)
    page.goto(f"{server.url}/ui?since=&actor=usr_mallory")
    row = page.locator(f'tr.event[data-event-id="{sample.HOSTILE_ID}"]')
    expect(row.locator(".c-description")).to_have_text(sample.HOSTILE)
    expect(row.locator(".party-name")).to_have_text("<b>Mallory</b>")
    row.click()
    expect(page.locator("tr.details:visible pre.json")).to_contain_text(
        "</pre><script>alert(4)</script>"
    )
    sources = page.eval_on_selector_all("script", "all => all.map(s => s.getAttribute('src'))")
    assert sources and all(src and src.startswith("/ui/static/") for src in sources)
    assert page.locator("img, svg[onload], b").count() == 0
    assert page.evaluate("window.__xss === undefined")
    # the page fixture fails the test if any dialog opened or the CSP reported a violation


LOCAL_STAMP = """iso => {
    const d = new Date(iso), p = n => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} `
        + `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}"""


def test_times_are_shown_in_the_browsers_time_zone(browser: Any, server: Server) -> None:
    context = browser.new_context(timezone_id="Asia/Kolkata", locale="en-GB")
    page = context.new_page()
    open_link(page, server.session_url())
    page.goto(f"{server.url}/ui?since=&action=member.role_changed")
    when = page.locator("tr.event time").first
    utc = when.get_attribute("datetime")
    shown = when.inner_text()
    expected = page.evaluate(LOCAL_STAMP, utc)
    assert shown == expected
    assert "+05:30" in when.get_attribute("title")
    expect(page.locator("tr.event .relative").first).to_have_text(re.compile(r"minutes? ago"))
    context.close()


def test_paging_moves_with_cursors(page: Any, server: Server) -> None:
    server.record(sample.filler(120), tenant="empty")
    open_link(page, server.session_url(tenant="empty"))
    page.goto(f"{server.url}/ui?since=&action=user.login&limit=50")
    first = page.locator("tr.event").evaluate_all("r => r.map(x => x.dataset.eventId)")
    page.get_by_role("link", name="Older →").click()
    expect(page.locator("#result-count")).to_contain_text("showing 51–100")
    assert "cursor=" in page.url and "offset" not in page.url
    second = page.locator("tr.event").evaluate_all("r => r.map(x => x.dataset.eventId)")
    assert not set(first) & set(second)
    page.get_by_role("link", name="← Newer").click()
    again = page.locator("tr.event").evaluate_all("r => r.map(x => x.dataset.eventId)")
    assert again == first
