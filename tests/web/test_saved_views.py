"""Saved views in the viewer: the menu, saving the current filters, sharing, deleting, who may."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from .conftest import Site


def _save(client: TestClient, name: str, phrase: str, shared: bool = False, back: str = "") -> str:
    form = {"name": name, "phrase": phrase, "back": back, **({"shared": "1"} if shared else {})}
    saved = client.post("/ui/saved-views", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    location: str = saved.headers["location"]
    return location


def _menu(html: str) -> str:
    """The saved-views menu of a page (the table may name views too: their records)."""
    start = html.index('<details class="saved-menu"')
    return html[start : html.index("</details>", start)]


def _ids(html: str) -> list[str]:
    return re.findall(r'action="/ui/saved-views/(ss_[0-9a-f]+)/delete"', html)


def test_the_menu_saves_the_current_filters_as_a_phrase(seeded: Site) -> None:
    owner = seeded.browser("owner")
    page = owner.get("/ui", params={"action": "member.role_changed", "actor": "maya@acme.com"})
    assert page.status_code == 200
    phrase = re.search(r'name="phrase" value="([^"]*)"', page.text.split("saved-form")[1])
    assert phrase is not None
    # the default range (the last 30 days) is not pinned: the view keeps meaning it
    assert phrase.group(1) == "action:member.role_changed actor:maya@acme.com"
    location = _save(owner, "Role changes by Maya", phrase.group(1))
    assert parse_qs(urlsplit(location).query)["phrase"] == [phrase.group(1)]
    assert "since" not in parse_qs(urlsplit(location).query, keep_blank_values=True)
    opened = owner.get(location)
    assert opened.status_code == 200
    assert "Saved view: Role changes by Maya" in opened.text
    share = re.search(
        r'id="saved-share-url" class="mono" type="text" readonly value="([^"]+)"', opened.text
    )
    assert share is not None and share.group(1).startswith("http://testserver/ui?phrase=")
    assert 'aria-current="page">Role changes by Maya</a>' in opened.text


def test_a_view_with_dates_of_its_own_opens_over_exactly_them(seeded: Site) -> None:
    owner = seeded.browser("owner")
    location = _save(owner, "March", "action:member.* created:>=2026-03-01 created:<2026-04-01")
    assert parse_qs(urlsplit(location).query, keep_blank_values=True)["since"] == [""]


def test_shared_views_are_seen_by_every_admin_private_ones_by_their_owner(seeded: Site) -> None:
    owner, admin = seeded.browser("owner"), seeded.browser("admin")
    _save(owner, "Team view", "kind:delete", shared=True)
    _save(owner, "Mine", "kind:create")
    owners_menu = _menu(owner.get("/ui").text)
    admins_menu = _menu(admin.get("/ui").text)
    assert "Team view" in owners_menu and "Mine" in owners_menu
    assert "Team view" in admins_menu and "Mine" not in admins_menu
    private_id, shared_id = _ids(owners_menu)  # by name: "Mine" < "Team view"
    refused = admin.post(f"/ui/saved-views/{private_id}/delete", data={"back": ""})
    assert refused.status_code == 404
    assert "no saved search" in refused.text
    gone = admin.post(
        f"/ui/saved-views/{shared_id}/delete",
        data={"back": f"kind=delete&saved={shared_id}"},
        follow_redirects=False,
    )
    assert gone.status_code == 303 and gone.headers["location"] == "/ui?kind=delete"
    assert "Team view" not in _menu(owner.get("/ui").text)


def test_account_admins_and_members_get_no_menu_and_may_not_save(seeded: Site) -> None:
    scoped = seeded.browser("account_admin", account_ids=["acc_hq"])
    page = scoped.get("/ui")
    assert page.status_code == 200 and "saved-menu" not in page.text
    refused = scoped.post("/ui/saved-views", data={"name": "x", "phrase": "kind:create"})
    assert refused.status_code == 403
    assert "owners and admins" in refused.text
    member = seeded.browser("member")
    sent_away = member.post(
        "/ui/saved-views", data={"name": "x", "phrase": ""}, follow_redirects=False
    )
    assert sent_away.status_code == 303 and sent_away.headers["location"] == "/ui/not-allowed"


def test_a_bad_save_says_why_and_leads_back(seeded: Site) -> None:
    owner = seeded.browser("owner")
    _save(owner, "Dup", "kind:create", shared=True)
    again = owner.post(
        "/ui/saved-views",
        data={"name": "Dup", "phrase": "kind:delete", "shared": "1", "back": "kind=delete"},
    )
    assert again.status_code == 409
    assert "already a shared saved search named &#39;Dup&#39;" in again.text
    assert 'href="/ui?kind=delete"' in again.text
    blank = owner.post("/ui/saved-views", data={"name": "  ", "phrase": "colour:blue"})
    assert blank.status_code == 400
    assert "The name must not be blank" in blank.text and "The phrase does not parse" in blank.text


def test_a_post_from_another_site_is_refused(seeded: Site) -> None:
    owner = seeded.browser("owner")
    refused = owner.post(
        "/ui/saved-views",
        data={"name": "evil", "phrase": ""},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert refused.status_code == 403
    assert "evil" not in _menu(owner.get("/ui").text)


def test_saving_and_deleting_are_recorded(seeded: Site) -> None:
    owner = seeded.browser("owner")
    location = _save(owner, "Deletes", "kind:delete", shared=True)
    search_id = parse_qs(urlsplit(location).query)["saved"][0]
    owner.post(f"/ui/saved-views/{search_id}/delete", data={"back": ""})
    found = (
        seeded.api()
        .get("/v1/events", params={"action": "audit_log.saved_search_created"})
        .json()["events"]
        + seeded.api()
        .get("/v1/events", params={"action": "audit_log.saved_search_deleted"})
        .json()["events"]
    )
    assert [e["action"] for e in found] == [
        "audit_log.saved_search_created",
        "audit_log.saved_search_deleted",
    ]
    created = found[0]
    assert created["actor"]["id"] == "usr_owner"
    assert created["resource"] == {"type": "saved_search", "id": search_id, "name": "Deletes"}
    assert created["context"] == {"name": "Deletes", "phrase": "kind:delete", "shared": True}
    assert created["description"] == "Owner saved the search Deletes"


def test_a_viewer_uses_the_api_with_the_session_cookie(seeded: Site) -> None:
    owner = seeded.browser("owner")
    created = owner.post("/v1/saved-searches", json={"name": "Mine", "phrase": "kind:create"})
    assert created.status_code == 201, created.text
    assert created.json()["shared"] is False
    assert owner.get("/v1/saved-searches").json()["saved_searches"] == [created.json()]
    assert seeded.browser("admin").get("/v1/saved-searches").json() == {"saved_searches": []}
    by_key = seeded.api(scopes="events:read").get("/v1/saved-searches")
    assert by_key.json() == {"saved_searches": []}
    assert seeded.api().delete(f"/v1/saved-searches/{created.json()['id']}").status_code == 404
    assert owner.delete(f"/v1/saved-searches/{created.json()['id']}").status_code == 204
    scoped = seeded.browser("account_admin", account_ids=["acc_hq"])
    assert scoped.get("/v1/saved-searches").status_code == 403
