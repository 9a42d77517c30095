"""GET /ui: the table, filters in the URL, errors inline, empty state, paging, headers."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from . import sample
from .conftest import Site


class Rows(HTMLParser):
    """The ``data-event-id`` of each table row and the text of each cell class."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.kinds: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.styled: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr" and "data-event-id" in found:
            self.ids.append(found["data-event-id"] or "")
            self.kinds.append(found.get("data-kind") or "")
        if tag == "script":
            self.scripts.append(found)
        if "style" in found or tag == "style":
            self.styled.append(tag)
        for name, _ in attrs:
            if name.startswith("on"):
                self.styled.append(f"{tag}[{name}]")


def rows(html: str) -> Rows:
    parser = Rows()
    parser.feed(html)
    return parser


def test_the_table_lists_events_newest_first_with_every_column(seeded: Site) -> None:
    page = seeded.browser("owner").get("/ui")
    assert page.status_code == 200
    found = rows(page.text)
    expected = [e.get("id") for e in reversed(sample.events())]
    assert found.ids[0] == sample.ROLE_CHANGE_ID
    assert len(found.ids) == len(expected)
    for column in ("Time", "Action", "Actor", "Resource", "Target", "Description", "IP address"):
        assert f">{column}</th>" in page.text
    assert '<span class="badge badge-update" data-kind="update"' in page.text
    assert "Daniel Okafor" in page.text
    assert "daniel@acmerobotics.com" in page.text
    assert '<span class="party-name">System</span>' in page.text
    assert 'title="sub_1PqR7s2eZvKYlo2C">sub_1PqR7s2e…</code>' in page.text  # truncated id
    assert '<time datetime="' in page.text
    assert "3 minutes ago" in page.text


def test_badges_are_coloured_by_kind(seeded: Site) -> None:
    found = rows(seeded.browser("owner").get("/ui").text)
    kinds = dict(zip(found.ids, found.kinds, strict=True))
    assert kinds[sample.ROLE_CHANGE_ID] == "update"
    assert set(found.kinds) >= {"create", "update", "delete", "access", "other"}


def test_every_viewer_response_has_a_strict_content_security_policy(seeded: Site) -> None:
    client = seeded.browser("owner")
    for path in ("/ui", "/ui/events/evt_role_change", "/ui/not-allowed", "/ui/static/viewer.css"):
        response = client.get(path)
        policy = response.headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["default-src"] == "'none'", path
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["img-src"] == "'self' data:"
        assert directives["form-action"] == "'self'"
        assert directives["frame-ancestors"] == "'self'"
        assert directives["base-uri"] == "'none'"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert "content-security-policy" not in client.get("/healthz").headers


def test_the_page_has_no_inline_script_or_style(seeded: Site) -> None:
    page = rows(seeded.browser("owner").get("/ui").text)
    sources = [(s.get("src") or "").split("?")[0] for s in page.scripts]
    assert "/ui/static/viewer.js" in sources
    assert all(src.startswith("/ui/static/") and src.endswith(".js") for src in sources)
    assert page.styled == []


def test_hostile_event_content_is_escaped_everywhere(seeded: Site) -> None:
    client = seeded.browser("owner")
    for page in (client.get("/ui"), client.get(f"/ui/events/{sample.HOSTILE_ID}")):
        text = page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in text
        assert "&lt;b&gt;Mallory&lt;/b&gt;" in text
        assert "&lt;/pre&gt;&lt;script&gt;alert(4)&lt;/script&gt;" in text
        assert "<script>alert" not in text
        assert "<img src=x" not in text
        assert "<svg onload" not in text
        parsed = rows(text)
        assert all((s.get("src") or "").startswith("/ui/static/") for s in parsed.scripts)
        assert parsed.styled == []


def test_default_range_is_the_last_30_days(site: Site) -> None:
    old = (datetime.now(UTC) - timedelta(days=45)).isoformat()
    site.record(
        [
            {
                "id": "old",
                "action": "app.created",
                "actor": {"type": "system", "id": "s"},
                "occurred_at": old,
            }
        ]
    )
    site.record([{"id": "new", "action": "app.created", "actor": {"type": "system", "id": "s"}}])
    client = site.browser("owner")
    page = client.get("/ui")
    since = (datetime.now(UTC).date() - timedelta(days=30)).isoformat()
    assert f'name="since" type="date" value="{since}"' in page.text
    assert rows(page.text).ids == ["new"]
    everything = client.get("/ui", params={"since": ""})
    assert "old" in rows(everything.text).ids


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"action": "member.role_changed"}, ["evt_role_change"]),
        ({"actor": "tom@acmerobotics.com"}, None),
        ({"kind": "delete"}, None),
        ({"resource_type": "api_key"}, None),
        ({"q": "Order tracker"}, None),
        ({"phrase": "action:member.* -actor:daniel@acmerobotics.com"}, None),
    ],
)
def test_filters_come_from_the_url_and_match_the_api(
    seeded: Site, params: dict[str, str], expected: list[str] | None
) -> None:
    client = seeded.browser("owner")
    page = client.get("/ui", params={"since": "", **params})
    assert page.status_code == 200
    found = rows(page.text).ids
    api_params = dict(params)
    if "actor" in api_params:
        api_params = {"phrase": f"actor:{api_params.pop('actor')}"}
    listed = client.get("/v1/events", params={"limit": "200", **api_params}).json()["events"]
    api_ids = [e["id"] for e in listed if not e["action"].startswith("audit_log.")]
    assert found == api_ids
    assert found
    if expected is not None:
        assert found == expected
    for value in params.values():
        shown = value.replace('"', "&#34;")
        assert f'value="{shown}"' in page.text or f'value="{value}" selected' in page.text


def test_the_action_dropdown_is_grouped_by_category(seeded: Site) -> None:
    text = seeded.browser("owner").get("/ui").text
    select = text[text.index('<select id="f-action"') : text.index("</select>")]
    groups = re.findall(r'<optgroup label="([^"]+)">', select)
    assert groups[:3] == ["Users &amp; members", "App lifecycle", "Billing &amp; subscriptions"]
    assert '<option value="member.role_changed">' in select


def test_a_phrase_that_does_not_parse_is_shown_inline(seeded: Site) -> None:
    page = seeded.browser("owner").get("/ui", params={"phrase": "action:member.* colour:blue"})
    assert page.status_code == 400
    assert 'aria-invalid="true"' in page.text
    assert "This phrase does not parse" in page.text
    assert "unknown key" in page.text
    assert 'data-error-position="16"' in page.text
    assert "<mark>colour:blue</mark>" in page.text
    assert rows(page.text).ids == []
    assert 'id="export-csv" disabled' in page.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-45"}, "until"),
        ({"kind": "explode"}, "kind"),
        ({"action": "Not An Action"}, "action"),
    ],
)
def test_other_bad_filters_are_named_inline(
    seeded: Site, params: dict[str, str], field: str
) -> None:
    page = seeded.browser("owner").get("/ui", params=params)
    assert page.status_code == 400
    assert f'id="e-{field}"' in page.text
    assert "Traceback" not in page.text


def test_an_empty_result_explains_itself_and_disables_export(seeded: Site) -> None:
    page = seeded.browser("owner").get(
        "/ui", params={"action": "voice_clone.deleted", "actor": "nobody@x.com"}
    )
    assert page.status_code == 200
    assert rows(page.text).ids == []
    assert "No events match these filters" in page.text
    assert "action <strong>voice_clone.deleted</strong>" in page.text
    assert "actor <strong>nobody@x.com</strong>" in page.text
    assert "Search all time" in page.text
    assert "Remove a filter" in page.text
    assert 'id="export-csv" disabled aria-disabled="true"' in page.text
    assert 'href="/ui/export' not in page.text
    assert "<strong>0</strong> events match" in page.text


def test_a_tenant_without_events_says_so(site: Site) -> None:
    page = site.browser("owner").get("/ui", params={"since": ""})
    assert "has no recorded events" in page.text


def test_the_expanded_row_holds_every_detail_and_a_verified_proof(seeded: Site) -> None:
    text = seeded.browser("owner").get("/ui").text
    start = text.index('data-event-id="evt_role_change"')
    details = text[start : text.index("</tbody>\n  <tbody", start)]
    for expected in (
        "<code>user:usr_daniel</code>",
        "<code>user:usr_tom</code>",
        "<code>workspace:ws_hq_main_91ab</code>",
        "<code>203.0.113.10</code>",
        "Firefox/125.0",
        "<code>acme</code>",
        "<code>acc_hq</code>",
        "<code>req_01HXYZ8K2M</code>",
        "&#34;previous_role&#34;: &#34;member&#34;",
        '<del>member</del></td><td class="after"><ins>admin</ins>',
        'data-verify="/ui/verify/evt_role_change"',
    ):
        assert expected in details, expected


def test_a_row_is_verified_when_it_opens(seeded: Site) -> None:
    client = seeded.browser("owner")
    verified = client.get("/ui/verify/evt_role_change")
    assert verified.status_code == 200
    body = verified.json()
    assert body["ok"] is True
    assert body["message"].startswith("included in the signed tree of")
    assert body["tree_size"] >= len(sample.events())
    assert client.get("/ui/verify/nope").status_code == 404
    scoped = seeded.browser("account_admin", account_ids=["acc_eu"])
    assert scoped.get("/ui/verify/evt_role_change").status_code == 404
    member = seeded.browser("member")
    assert member.get("/ui/verify/evt_role_change", follow_redirects=False).status_code == 303


def test_an_altered_event_is_not_verified(seeded: Site) -> None:
    """Someone with database access edits a row: the page says so instead of ✓."""
    path = seeded.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TRIGGER events_refuse_update")
        changed = connection.execute(
            "UPDATE events SET ip = '198.51.100.99' WHERE id = 'evt_role_change'"
        )
        assert changed.rowcount == 1
    text = seeded.browser("owner").get("/ui/events/evt_role_change").text
    assert "198.51.100.99" in text
    assert "<strong>Not verified</strong>" in text
    assert "does not match the leaf" in text
    verdict = seeded.browser("owner").get("/ui/verify/evt_role_change").json()
    assert verdict["ok"] is False
    untouched = seeded.browser("owner").get("/ui/events/evt_hostile").text
    assert "<strong>Verified</strong>: included in the signed tree of" in untouched


def test_paging_with_cursors_reaches_any_depth_without_overlap(site: Site) -> None:
    site.record(sample.filler(130))
    client = site.browser("owner")
    seen: list[str] = []
    url = "/ui?since=&action=user.login&limit=50"
    pages = 0
    while url:
        page = client.get(url)
        assert page.status_code == 200
        seen += rows(page.text).ids
        found = re.search(r'href="([^"]+)" rel="next"', page.text)
        url = found.group(1).replace("&amp;", "&") if found else ""
        pages += 1
        assert "offset=" not in url
    assert pages == 3
    assert seen == [f"evt_login_{i:04d}" for i in range(130)]
    assert "showing 101–130" in page.text
    back = re.search(r'href="([^"]+)" rel="prev"', page.text)
    assert back is not None
    previous = client.get(back.group(1).replace("&amp;", "&"))
    assert rows(previous.text).ids == seen[50:100]
    assert "showing 51–100" in previous.text


def test_paging_back_to_the_top_shows_a_full_first_page(site: Site) -> None:
    site.record(sample.filler(60))
    client = site.browser("owner")
    first = client.get("/ui?since=&action=user.login&limit=25")
    older = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert older is not None
    second = client.get(older.group(1).replace("&amp;", "&"))
    newer = re.search(r'href="([^"]+)" rel="prev"', second.text)
    assert newer is not None
    again = client.get(newer.group(1).replace("&amp;", "&"))
    assert rows(again.text).ids == rows(first.text).ids
    assert 'rel="prev"' not in again.text


def test_a_mangled_cursor_is_an_inline_error(seeded: Site) -> None:
    page = seeded.browser("owner").get("/ui", params={"cursor": "not-a-cursor"})
    assert page.status_code == 400
    assert "cursor is not valid" in page.text


def test_the_event_page_and_unknown_events(seeded: Site) -> None:
    client = seeded.browser("owner")
    page = client.get("/ui/events/evt_role_change")
    assert page.status_code == 200
    assert "member.role_changed" in page.text
    missing = client.get("/ui/events/nope")
    assert missing.status_code == 404
    assert "Event not found" in missing.text


def test_static_files_are_served_and_fingerprinted(seeded: Site) -> None:
    client = TestClient(seeded.app)
    page = seeded.browser("owner").get("/ui").text
    for name in ("viewer.css", "viewer.js", "favicon.svg"):
        found = re.search(rf"/ui/static/{re.escape(name)}\?v=([0-9a-f]{{10}})", page)
        assert found, name
        assert client.get(found.group(0)).status_code == 200


def test_api_filters_in_a_link_apply_and_survive_the_form(seeded: Site) -> None:
    page = seeded.browser("owner").get("/ui", params={"since": "", "account_id": "acc_eu"})
    eu = [e.get("id", "") for e in sample.events() if e.get("account_id") == "acc_eu"]
    assert len(rows(page.text).ids) == len(eu)
    assert '<input type="hidden" name="account_id" value="acc_eu">' in page.text
    assert '<span class="chip-label">Account</span>' in page.text


def test_unknown_viewer_addresses_get_a_page(seeded: Site) -> None:
    response = seeded.browser("owner").get("/ui/nowhere")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "content-security-policy" in response.headers
