"""The timeline and the keyboard help in Chromium, at 1,024 and 1,280 px and on a 390-px phone.

The timeline renders above the table and adds up to the page's count, follows a
filter, narrows the range when a column is clicked or when columns are dragged
across, and never makes the page scroll sideways. The keyboard help opens with
``?`` (and its button), lists the shortcuts, lets the one-key shortcuts be
turned off, and that choice and the relative/absolute time switch are
remembered across page loads.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from . import axe
from .conftest import Server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

NOT_VIEWS = "-category:audit_log"  # leave out the views and exports other tests make
WIDTHS = [1024, 1280, 390]


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def sized(request: pytest.FixtureRequest, browser: Any) -> Any:
    width = request.param
    phone = width < 500
    context = browser.new_context(
        viewport={"width": width, "height": 844 if phone else 900},
        is_mobile=phone,
        has_touch=phone,
    )
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: problems.append(str(e)))
    yield opened
    context.close()
    assert not [p for p in problems if not p.startswith("Failed to load resource")], problems


def number(text: str) -> int:
    found = re.search(r"([\d,]+)", text)
    assert found, text
    return int(found.group(1).replace(",", ""))


def timeline_counts(page: Any) -> list[int]:
    counts: list[int] = page.eval_on_selector_all(
        "#timeline tbody tr",
        "rows => rows.map(r => Number(r.cells[1].textContent.replace(/,/g, '')))",
    )
    return counts


def no_sideways_scroll(page: Any) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = page.locator("#timeline").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5


def test_the_timeline_renders_and_adds_up_to_the_count(sized: Any, server: Server) -> None:
    sized.goto(server.session_url("owner"))
    sized.goto(f"{server.url}/ui?phrase={NOT_VIEWS}")
    chart = sized.locator("#timeline svg")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None and box["height"] > 40 and box["width"] > 300
    bars = sized.locator("#timeline .timeline-bar")
    assert bars.count() > 0
    kinds = set(
        sized.eval_on_selector_all("#timeline .timeline-bar", "b => b.map(e => e.classList[1])")
    )
    assert {"bar-create", "bar-update", "bar-delete", "bar-access"} <= kinds
    # The bars take the badges' colours: a delete bar is filled with the delete badge's border.
    fill, border = sized.evaluate(
        """() => {
          const bar = document.querySelector('#timeline .bar-delete');
          const badge = document.querySelector('.badge-delete');
          return [getComputedStyle(bar).fill, getComputedStyle(badge).borderTopColor];
        }"""
    )
    assert fill == border
    expect(sized.locator("#timeline .timeline-failed").first).to_be_attached()  # failures marked
    total = number(sized.locator("#result-count").inner_text())
    assert number(sized.locator("#timeline-caption").inner_text()) == total
    sized.locator("#timeline summary").click()  # the table alternative
    expect(sized.locator("#timeline table caption")).to_be_visible()
    assert sum(timeline_counts(sized)) == total
    no_sideways_scroll(sized)


def test_the_timeline_follows_a_filter(sized: Any, server: Server) -> None:
    sized.goto(server.session_url("admin"))
    sized.goto(f"{server.url}/ui?phrase={NOT_VIEWS}")
    everything = number(sized.locator("#timeline-caption").inner_text())
    sized.goto(f"{server.url}/ui?phrase={NOT_VIEWS}&kind=delete")
    deletes = number(sized.locator("#timeline-caption").inner_text())
    assert 0 < deletes < everything
    assert deletes == number(sized.locator("#result-count").inner_text())
    assert (
        sized.locator("#timeline .timeline-bar").count()
        == sized.locator("#timeline .timeline-bar.bar-delete").count()
    )
    no_sideways_scroll(sized)


def _busy_column(page: Any) -> tuple[int, dict[str, str]]:
    """The index and range of the fullest column that is not the last (which grows)."""
    columns = page.eval_on_selector_all(
        "#timeline a.timeline-column",
        """cs => cs.map(c => ({start: c.dataset.start, end: c.dataset.end,
              bars: c.querySelectorAll('.timeline-bar').length}))""",
    )
    candidates = [i for i, c in enumerate(columns[:-1]) if c["bars"]]
    assert candidates, columns
    index = candidates[len(candidates) // 2]
    return index, columns[index]


def test_clicking_a_column_narrows_the_range_to_it(sized: Any, server: Server) -> None:
    sized.goto(server.session_url("owner"))
    sized.goto(f"{server.url}/ui?phrase={NOT_VIEWS}")
    index, column = _busy_column(sized)
    target = sized.locator("#timeline a.timeline-column").nth(index).locator(".timeline-hit")
    if sized.viewport_size["width"] < 500:
        target.tap()
    else:
        target.click()
    sized.wait_for_url(re.compile(r"until="))
    query = parse_qs(urlparse(sized.url).query)
    assert query["since"] == [column["start"]] and query["until"] == [column["end"]]
    assert query["phrase"] == [NOT_VIEWS]  # the other filters stay
    shown = number(sized.locator("#result-count").inner_text())
    assert shown > 0 and number(sized.locator("#timeline-caption").inner_text()) == shown
    no_sideways_scroll(sized)


def test_dragging_across_columns_narrows_to_them(browser: Any, server: Server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(server.session_url("owner"))
        page.goto(f"{server.url}/ui?phrase={NOT_VIEWS}")
        columns = page.locator("#timeline a.timeline-column")
        count = columns.count()
        assert count >= 4
        first, last = count // 4, count // 2
        since = columns.nth(first).get_attribute("data-start")
        until = columns.nth(last).get_attribute("data-end")
        a = columns.nth(first).locator(".timeline-hit").bounding_box()
        b = columns.nth(last).locator(".timeline-hit").bounding_box()
        assert a is not None and b is not None
        y = a["y"] + a["height"] / 2
        page.mouse.move(a["x"] + a["width"] / 2, y)
        page.mouse.down()
        page.mouse.move((a["x"] + b["x"]) / 2, y, steps=5)
        expect(page.locator(".timeline-selection")).to_be_visible()
        page.mouse.move(b["x"] + b["width"] / 2, y, steps=5)
        page.mouse.up()
        page.wait_for_url(re.compile(r"until="))
        query = parse_qs(urlparse(page.url).query)
        assert query["since"] == [since] and query["until"] == [until]
        assert query["phrase"] == [NOT_VIEWS]
        shown = number(page.locator("#result-count").inner_text())
        assert number(page.locator("#timeline-caption").inner_text()) == shown
    finally:
        context.close()


def test_keyboard_help_lists_the_shortcuts_and_can_turn_them_off(
    sized: Any, server: Server
) -> None:
    sized.goto(server.session_url("owner"))
    dialog = sized.locator("#keyboard-help")
    expect(dialog).to_be_hidden()
    sized.keyboard.press("?")
    expect(dialog).to_be_visible()
    for key in ("/", "j", "k", "Enter", "Esc", "?"):
        expect(dialog.locator("kbd", has_text=key).first).to_be_visible()
    no_sideways_scroll(sized)
    sized.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # j moves to the first event while the one-key shortcuts are on (once there is one:
    # the page loads its events after the document, and a j before them moves nowhere)
    expect(sized.locator("tr.event").first).to_be_visible()
    sized.keyboard.press("j")
    expect(sized.locator("button.toggle:focus")).to_have_count(1)
    sized.locator("#keyboard-help-open").click()
    expect(dialog).to_be_visible()
    sized.locator("#one-keys").uncheck()
    expect(sized.locator("#one-keys-off-note")).to_be_visible()
    sized.locator("#keyboard-help-close").click()
    expect(dialog).to_be_hidden()
    sized.reload()  # remembered
    sized.locator("body").click(position={"x": 2, "y": 2})
    for key in ("j", "/", "?"):
        sized.keyboard.press(key)
    expect(dialog).to_be_hidden()
    assert not sized.evaluate("document.activeElement.matches('button.toggle, input')")
    sized.locator("#keyboard-help-open").click()
    expect(sized.locator("#one-keys")).not_to_be_checked()
    sized.locator("#one-keys").check()
    sized.keyboard.press("Escape")
    sized.reload()
    sized.keyboard.press("?")
    expect(dialog).to_be_visible()


def test_the_time_switch_is_remembered(sized: Any, server: Server) -> None:
    sized.goto(server.session_url("owner"))
    relative = sized.locator("tr.event .relative").first
    switch = sized.locator("#time-toggle")
    expect(switch).to_have_attribute("aria-pressed", "true")
    expect(relative).to_be_visible()
    switch.click()
    expect(switch).to_have_attribute("aria-pressed", "false")
    expect(relative).to_be_hidden()
    sized.reload()
    expect(sized.locator("#time-toggle")).to_have_attribute("aria-pressed", "false")
    expect(sized.locator("tr.event .relative").first).to_be_hidden()
    expect(sized.locator("tr.event time").first).to_be_visible()
    sized.locator("#time-toggle").click()
    expect(sized.locator("tr.event .relative").first).to_be_visible()


ALL_IMPACTS = ("minor", "moderate", "serious", "critical")


def test_axe_finds_nothing_in_the_timeline_table_and_the_keyboard_help(
    sized: Any, server: Server
) -> None:
    try:
        axe.source()
    except axe.Unavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the accessibility tests, but {exc}")
        pytest.skip(f"accessibility tests skipped: {exc}")
    sized.goto(server.session_url("owner"))
    sized.goto(f"{server.url}/ui?phrase={NOT_VIEWS}")
    sized.locator("#timeline summary").click()
    expect(sized.locator("#timeline table")).to_be_visible()
    assert axe.violations(sized, impacts=ALL_IMPACTS) == []
    sized.locator("#keyboard-help-open").click()
    expect(sized.locator("#keyboard-help")).to_be_visible()
    assert axe.violations(sized, impacts=ALL_IMPACTS) == []


def test_timeline_screenshot(browser: Any, server: Server, tmp_path: Path) -> None:
    """docs/screenshots/viewer-timeline.png, when SEALTRAIL_SCREENSHOTS names the folder."""
    wanted = os.environ.get("SEALTRAIL_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(server.session_url(tenant="northwind", name="Maya Chen"))
        chart = page.locator("#timeline")
        expect(chart.locator(".timeline-bar").first).to_be_visible()
        chart.screenshot(animations="disabled", path=str(folder / "viewer-timeline.png"))
        assert (folder / "viewer-timeline.png").stat().st_size > 5_000
    finally:
        context.close()
