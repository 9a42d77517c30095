"""The viewer at laptop widths (1,024 and 1,280 px) and on a 390-px phone: nothing scrolls
sideways, nothing in an expanded row is cut off, and a phone opens on the events."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .. import sample
from .conftest import Server, open_link

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# Every element of the open row whose box ends right of the table card's visible edge
# (what scrolls inside a box of its own, such as the context's JSON, is that box's).
CUT_OFF = """(card) => {
  const edge = card.getBoundingClientRect().right + 0.5;
  const open = card.querySelector("tr.details:not([hidden])");
  return [...open.querySelectorAll("*")]
    .filter((e) => !e.parentElement.closest(".json"))
    .filter((e) => e.getBoundingClientRect().right > edge)
    .map((e) => `${e.tagName.toLowerCase()}.${e.className}`);
}"""


@pytest.fixture(params=[1024, 1280])
def laptop(request: pytest.FixtureRequest, browser: Any) -> Any:
    context = browser.new_context(viewport={"width": request.param, "height": 900})
    yield context.new_page()
    context.close()


def test_the_table_fits_and_an_expanded_row_shows_everything(laptop: Any, server: Server) -> None:
    open_link(laptop, server.session_url("owner"))
    expect(laptop.locator("tr.event").first).to_be_visible()
    width = laptop.viewport_size["width"]
    assert laptop.evaluate("document.documentElement.scrollWidth") <= width
    card = laptop.locator(".table-card")
    scroll, client = card.evaluate("c => [c.scrollWidth, c.clientWidth]")
    assert scroll <= client, f"the table is {scroll}px wide in a {client}px card at {width}px"
    row = laptop.locator(f'tr.event[data-event-id="{sample.ROLE_CHANGE_ID}"]')
    row.get_by_role("button").click()
    open_row = laptop.locator("tr.details:visible")
    expect(open_row.locator(".proof-ok")).to_be_visible()
    expect(open_row.locator(".diff .after").first).to_be_visible()
    assert card.evaluate(CUT_OFF) == []
    scroll, client = card.evaluate("c => [c.scrollWidth, c.clientWidth]")
    assert scroll <= client
    assert laptop.evaluate("document.documentElement.scrollWidth") <= width


def test_a_phone_opens_on_the_events_with_the_filters_folded(phone: Any, server: Server) -> None:
    open_link(phone, server.session_url("owner"))
    expect(phone.locator("tr.event").first).to_be_visible()
    expect(phone.locator("#f-action")).to_be_hidden()
    first = phone.locator("tr.event").first.bounding_box()
    assert first is not None and first["y"] < 844, "the first event is below the first screen"
    phone.locator("#filters-title").tap()
    expect(phone.locator("#f-action")).to_be_visible()


def test_a_phone_keeps_the_filters_open_when_one_is_wrong(phone: Any, server: Server) -> None:
    open_link(phone, server.session_url("owner"))
    phone.goto(f"{server.url}/ui?phrase=colour:blue")
    expect(phone.locator("#e-phrase")).to_be_visible()
