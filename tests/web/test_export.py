"""/ui/export: exactly what the filters match, as the API exports it."""

from __future__ import annotations

import re

from .conftest import Site


def _export_link(html: str) -> str:
    found = re.search(r'id="export-csv" href="([^"]+)"', html)
    assert found is not None, "no export link"
    return found.group(1).replace("&amp;", "&")


def test_the_export_equals_the_api_export_of_the_same_filters(seeded: Site) -> None:
    client = seeded.browser("owner")
    filters = {"since": "", "kind": "update", "q": "role"}
    page = client.get("/ui", params=filters)
    link = _export_link(page.text)
    assert link.startswith("/ui/export?")
    assert "kind=update" in link and "q=role" in link
    exported = client.get(link)
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.headers["content-disposition"].startswith(
        'attachment; filename="sealtrail-acme-'
    )
    api = seeded.api().get(
        "/v1/events/export", params={"format": "csv", "kind": "update", "q": "role"}
    )
    assert exported.content == api.content
    assert exported.text.count("\r\n") == 1 + len(re.findall(r'<tr class="event"', page.text))


def test_the_export_is_pinned_to_when_the_page_counted(seeded: Site) -> None:
    client = seeded.browser("owner")
    page = client.get("/ui", params={"since": ""})
    link = _export_link(page.text)
    assert re.search(r"until=\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\d\.\d{6}Z", link)
    count = int(re.search(r"<strong>(\d+)</strong> events match", page.text).group(1))  # type: ignore[union-attr]
    seeded.record([{"action": "app.created", "actor": {"type": "system", "id": "later"}}])
    exported = client.get(link)
    assert exported.text.count("\r\n") == 1 + count  # not the page view, the export or "later"


def test_a_date_until_is_kept_when_it_is_earlier(seeded: Site) -> None:
    page = seeded.browser("owner").get("/ui", params={"since": "2020-01-01", "until": "2020-01-31"})
    assert 'id="export-csv" disabled' in page.text
    page = seeded.browser("owner").get("/ui", params={"since": "", "until": "2999-01-01"})
    link = _export_link(page.text)
    assert "until=2999" not in link


def test_export_is_disabled_when_nothing_matches(seeded: Site) -> None:
    page = seeded.browser("owner").get("/ui", params={"action": "voice_clone.created"})
    assert 'id="export-csv" disabled aria-disabled="true"' in page.text
    assert "/ui/export" not in page.text


def test_a_bad_export_link_gets_a_page_not_a_crash(seeded: Site) -> None:
    response = seeded.browser("owner").get("/ui/export", params={"phrase": "nope:x"})
    assert response.status_code == 400
    assert "These filters cannot be exported" in response.text
