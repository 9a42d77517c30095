"""Saved views in Chromium: save the filters from the menu, open the view, share its link."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Server, open_link

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_a_view_is_saved_from_the_menu_and_opened_from_it(page: Any, server: Server) -> None:
    open_link(page, server.session_url("owner", tenant="views", name="Saver"))
    page.goto(f"{server.url}/ui?kind=delete")
    page.locator(".saved-toggle").click()
    expect(page.locator("#sv-keeps")).to_contain_text("kind:delete")
    page.locator("#sv-name").fill("Deletions (browser)")
    page.get_by_label("Share with").check()
    page.locator(".saved-form").get_by_role("button", name="Save").click()
    expect(page.locator(".saved-current h2")).to_contain_text("Deletions (browser)")
    link = page.locator("#saved-share-url").input_value()
    assert link.startswith(f"{server.url}/ui?phrase=kind%3Adelete&saved=ss_")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    # another admin opens the shared link and lands on the same filters
    other = page.context.browser.new_context()
    admin = other.new_page()
    open_link(admin, server.session_url("admin", tenant="views", name="Other Admin"))
    admin.goto(link)
    expect(admin.locator("#f-phrase")).to_have_value("kind:delete")
    expect(admin.locator(".saved-current h2")).to_contain_text("Deletions (browser)")
    other.close()
    page.goto(f"{server.url}/ui")
    page.locator(".saved-toggle").click()
    page.get_by_role("link", name="Deletions (browser)").click()
    expect(page.locator("#f-phrase")).to_have_value("kind:delete")
    page.locator(".saved-toggle").click()
    page.get_by_role("button", name="Delete the view Deletions (browser)").click()
    expect(page.locator(".saved-current")).to_have_count(0)
    expect(page.locator("#f-phrase")).to_have_value("kind:delete")
