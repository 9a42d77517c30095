"""/docs renders Swagger UI from this server alone: no CDN, so it works offline."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import Server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_swagger_ui_loads_with_every_other_origin_cut_off(page: Any, server: Server) -> None:
    ours = urlsplit(server.url).netloc
    elsewhere: list[str] = []

    def only_ours(route: Any) -> None:
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_ours)
    page.goto(f"{server.url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Sealtrail", timeout=20_000)
    expect(page.locator(".opblock-summary-path", has_text="/v1/events").first).to_be_visible()
    assert elsewhere == []
