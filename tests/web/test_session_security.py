"""Viewer sessions as an attacker meets them, over HTTP: single-use links, revocation by
the user, the host product and the operator, cross-site refusals, the switch prompt,
and the headers of authenticated responses. (The same in Chromium: browser/.)"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from sealtrail.cli.app import cli

from .conftest import Site


def _open(site: Site, url: str) -> TestClient:
    client = TestClient(site.app)
    assert client.get(url).status_code == 200
    return client


def test_a_link_opens_once_and_its_token_is_not_the_cookie(site: Site) -> None:
    minted = site.mint("owner")
    browser = _open(site, minted["url"])
    assert browser.cookies["sealtrail_viewer"] != minted["token"]
    assert browser.get("/ui").status_code == 200
    # From the browser's history, or from a plain HTTP client: spent.
    again = TestClient(site.app).get(minted["url"], follow_redirects=False)
    assert again.status_code == 401
    assert "This link was already used" in again.text
    assert "set-cookie" not in again.headers
    # The link's token is no cookie, and no bearer token either.
    stolen = TestClient(site.app)
    stolen.cookies.set("sealtrail_viewer", minted["token"])
    assert stolen.get("/ui").status_code == 401
    assert stolen.get("/v1/events").status_code == 401
    bearer = TestClient(site.app).get(
        "/v1/events", headers={"Authorization": f"Bearer {minted['token']}"}
    )
    assert bearer.status_code == 401


def test_an_unused_link_expires_on_its_own(site: Site) -> None:
    response = TestClient(site.app).get("/ui/session", params={"token": site.expired_link()})
    assert response.status_code == 401
    assert "This session has expired" in response.text


def test_the_host_revokes_one_session_by_id(seeded: Site) -> None:
    minted = seeded.mint("owner")
    browser = _open(seeded, minted["url"])
    other = seeded.browser("admin")
    assert browser.get("/v1/events").status_code == 200
    host = seeded.api()
    revoked = host.delete(f"/v1/viewer-sessions/{minted['session_id']}")
    assert revoked.status_code == 204
    page = browser.get("/ui")
    assert page.status_code == 401
    assert "This session has ended" in page.text
    assert browser.get("/v1/events").json()["error"]["code"] == "session_revoked"
    assert other.get("/ui").status_code == 200  # only that session
    # Again: it has ended already, which is fine; an unknown id is not.
    assert host.delete(f"/v1/viewer-sessions/{minted['session_id']}").status_code == 204
    missing = host.delete("/v1/viewer-sessions/vs_000000000000000000000000")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_another_tenants_session_answers_like_a_missing_one(seeded: Site) -> None:
    minted = seeded.mint("owner", tenant="globex")
    browser = _open(seeded, minted["url"])
    response = seeded.api("acme").delete(f"/v1/viewer-sessions/{minted['session_id']}")
    assert response.status_code == 404
    assert seeded.api("acme").delete(
        "/v1/viewer-sessions", params={"user_id": "usr_owner"}
    ).json() == {"revoked": 0}
    assert browser.get("/ui").status_code == 200


def test_a_token_naming_a_real_session_with_a_wrong_secret_tells_nothing(site: Site) -> None:
    """A cookie or link naming another tenant's real session id answers exactly as one
    naming no session: no token is an oracle for which session ids exist."""
    real = site.mint("owner", tenant="globex")["session_id"]
    made_up = "vs_" + "0" * 24
    tenant = "Z2xvYmV4"  # base64url("globex")
    for prefix, path in (("vs1", "/v1/events"), ("vs1", "/ui"), ("vl1", "/ui/session")):
        answers = []
        for session_id in (real, made_up):
            token = f"{prefix}.{tenant}.{session_id}.{'x' * 43}"
            client = TestClient(site.app)
            if prefix == "vs1":
                client.cookies.set("sealtrail_viewer", token)
                answer = client.get(path)
            else:
                answer = client.get(path, params={"token": token})
            answers.append((answer.status_code, answer.text))
        assert answers[0] == answers[1], path
        assert answers[0][0] == 401


def test_the_host_revokes_every_session_of_a_user(seeded: Site) -> None:
    first, second = seeded.browser("owner"), seeded.browser("owner")
    admin = seeded.browser("admin")
    response = seeded.api().delete("/v1/viewer-sessions", params={"user_id": "usr_owner"})
    assert response.status_code == 200
    assert response.json() == {"revoked": 2}
    assert first.get("/ui").status_code == 401
    assert second.get("/ui").status_code == 401
    assert admin.get("/ui").status_code == 200
    missing = seeded.api().delete("/v1/viewer-sessions")
    assert missing.status_code == 422


def test_revoking_needs_the_viewer_mint_scope(seeded: Site) -> None:
    minted = seeded.mint("owner")
    reader = seeded.api(scopes="events:read")
    assert reader.delete(f"/v1/viewer-sessions/{minted['session_id']}").status_code == 403
    assert reader.delete("/v1/viewer-sessions", params={"user_id": "x"}).status_code == 403
    browser = seeded.browser("owner")
    assert (
        browser.delete(f"/v1/viewer-sessions/{minted['session_id']}").status_code == 403
    )  # a viewer's own cookie cannot either


def test_the_operator_lists_and_revokes_sessions(seeded: Site) -> None:
    from click.testing import CliRunner

    browser = seeded.browser("owner")
    admin = seeded.browser("admin")
    runner = CliRunner()
    db = ["--database", seeded.settings.database_url]
    listed = runner.invoke(cli, ["sessions", "list", "--tenant", "acme", "--json", *db])
    assert listed.exit_code == 0, listed.output
    import json

    sessions: list[dict[str, Any]] = json.loads(listed.output)["sessions"]
    owner = next(s for s in sessions if s["user"]["id"] == "usr_owner")
    assert owner["status"] == "active"
    assert {s["status"] for s in sessions} == {"active"}
    revoked = runner.invoke(cli, ["sessions", "revoke", owner["id"], "--tenant", "acme", *db])
    assert revoked.exit_code == 0, revoked.output
    assert revoked.output.strip() == "revoked 1 session"
    assert browser.get("/ui").status_code == 401
    assert admin.get("/ui").status_code == 200
    by_user = runner.invoke(
        cli, ["sessions", "revoke", "--user", "usr_admin", "--tenant", "acme", *db]
    )
    assert by_user.output.strip() == "revoked 1 session"
    assert admin.get("/ui").status_code == 401
    live = runner.invoke(cli, ["sessions", "list", "--tenant", "acme", "--live", "--json", *db])
    assert json.loads(live.output)["sessions"] == []
    wrong = runner.invoke(
        cli, ["sessions", "revoke", owner["id"], "--tenant", "globex", *db], standalone_mode=False
    )
    assert wrong.exit_code != 0


# -- cross-site requests --------------------------------------------------------------

CROSS = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # another port or subdomain of the same site
    {"Origin": "http://127.0.0.1:9999"},  # a browser without Fetch Metadata
]


@pytest.mark.parametrize("headers", CROSS)
def test_export_refuses_a_cross_site_request_and_records_nothing(
    seeded: Site, headers: dict[str, str]
) -> None:
    browser = seeded.browser("owner")
    before = seeded.actions(action="audit_log.exported")
    response = browser.get("/ui/export", params={"since": ""}, headers=headers)
    assert response.status_code == 403
    assert "text/csv" not in response.headers["content-type"]
    assert "Open the audit log from its own page" in response.text
    api = browser.get("/v1/events/export", params={"format": "csv"}, headers=headers)
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "cross_site_request"
    assert seeded.actions(action="audit_log.exported") == before


@pytest.mark.parametrize("headers", CROSS)
def test_recorded_reads_refuse_a_cross_site_request(seeded: Site, headers: dict[str, str]) -> None:
    browser = seeded.browser("owner")
    before = seeded.actions(action="audit_log.viewed")
    page = browser.get("/ui", params={"phrase": "action:member.*"}, headers=headers)
    assert page.status_code == 403
    assert "member.role_changed" not in page.text
    # The page offers to go on, from this origin, to the same address.
    assert 'href="/ui?phrase=action%3Amember.%2A"' in page.text
    event = browser.get("/ui/events/evt_role_change", headers=headers)
    assert event.status_code == 403
    assert "Tom Becker" not in event.text
    verify = browser.get("/ui/verify/evt_role_change", headers=headers)
    assert verify.status_code == 403
    for path in ("/v1/events", "/v1/events/evt_role_change", "/v1/checkpoint"):
        api = browser.get(path, headers=headers)
        assert api.status_code == 403, path
        assert api.json()["error"]["code"] == "cross_site_request"
    assert seeded.actions(action="audit_log.viewed") == before
    signed_out = browser.post("/ui/sign-out", headers=headers, follow_redirects=False)
    assert signed_out.status_code == 403
    assert browser.get("/ui").status_code == 200  # still signed in


@pytest.mark.parametrize(
    "headers",
    [{}, {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}],
)
def test_the_viewers_own_requests_pass(seeded: Site, headers: dict[str, str]) -> None:
    browser = seeded.browser("owner")
    assert browser.get("/ui", headers=headers).status_code == 200
    assert browser.get("/ui/export", params={"since": ""}, headers=headers).status_code == 200
    assert browser.get("/v1/events", headers=headers).status_code == 200


def test_an_api_key_is_not_subject_to_the_browser_check(seeded: Site) -> None:
    response = seeded.api().get("/v1/events", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200


def test_the_link_itself_may_come_from_another_site(site: Site) -> None:
    client = TestClient(site.app)
    opened = client.get(
        site.mint()["url"], headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False
    )
    assert opened.status_code == 200
    # Not a redirect: this page asks for /ui itself, so that request is same-origin.
    assert '<meta http-equiv="refresh" content="0;url=/ui">' in opened.text
    assert "sealtrail_viewer=vs1." in opened.headers["set-cookie"]
    assert client.get("/ui", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200


# -- another user's link while signed in ------------------------------------------------


def test_another_users_link_asks_before_switching(seeded: Site) -> None:
    browser = seeded.browser("owner")
    intruder = seeded.mint("admin", tenant="globex")
    asked = browser.get(intruder["url"])
    assert asked.status_code == 200
    assert 'data-reason="confirm_switch"' in asked.text
    assert "Globex" in asked.text and "Acme Robotics" in asked.text
    assert "set-cookie" not in asked.headers
    # Nothing changed: still the owner of acme, and the link is not spent.
    assert "Owner" in browser.get("/ui").text
    # A POST from another site does not switch.
    forged = browser.post(
        "/ui/session",
        data={"token": intruder["token"]},
        headers={"Sec-Fetch-Site": "same-site"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert "Owner" in browser.get("/ui").text
    # The user's own click does: the old session ends, the new one starts.
    old = browser.cookies["sealtrail_viewer"]
    switched = browser.post(
        "/ui/session",
        data={"token": intruder["token"]},
        headers={"Sec-Fetch-Site": "same-origin"},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == "/ui"
    page = browser.get("/ui", params={"since": ""})
    assert "globex only" in page.text
    stale = TestClient(seeded.app)
    stale.cookies.set("sealtrail_viewer", old)
    assert stale.get("/ui").status_code == 401


def test_the_same_users_new_link_replaces_the_session_without_asking(site: Site) -> None:
    browser = site.browser("owner")
    old = browser.cookies["sealtrail_viewer"]
    opened = browser.get(site.mint("owner")["url"])
    assert opened.status_code == 200
    assert 'data-reason="confirm_switch"' not in opened.text
    assert browser.cookies["sealtrail_viewer"] != old
    stale = TestClient(site.app)
    stale.cookies.set("sealtrail_viewer", old)
    assert stale.get("/ui").status_code == 401


# -- headers --------------------------------------------------------------------------


def test_authenticated_api_responses_are_not_stored_or_sniffed(seeded: Site) -> None:
    browser = seeded.browser("owner")
    for client, path in [
        (browser, "/v1/events"),
        (browser, "/v1/events/evt_role_change"),
        (browser, "/v1/checkpoint"),
        (browser, "/v1/catalog"),
        (seeded.api(), "/v1/events"),
        (seeded.api(), "/v1/events/nope"),
        (TestClient(seeded.app, headers={"Authorization": "Bearer nope"}), "/v1/events"),
    ]:
        response = client.get(path)
        assert response.headers["cache-control"] == "no-store", path
        assert response.headers["x-content-type-options"] == "nosniff", path
    static = browser.get("/ui/static/viewer.css")
    assert static.headers.get("cache-control") != "no-store"


def test_frame_ancestors_are_set_per_tenant(seeded: Site) -> None:
    from click.testing import CliRunner

    db = ["--database", seeded.settings.database_url]
    result = CliRunner().invoke(
        cli,
        [
            "tenants",
            "framing",
            "set",
            "--tenant",
            "acme",
            "https://app.acme.example",
            "http://127.0.0.1:8443/",
            *db,
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "https://app.acme.example http://127.0.0.1:8443"
    seeded.log.set_frame_ancestors("acme", "https://app.acme.example http://127.0.0.1:8443")
    acme = seeded.browser("owner")
    page = acme.get("/ui")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'self' https://app.acme.example http://127.0.0.1:8443;" in csp
    assert "x-frame-options" not in page.headers
    globex = seeded.browser("owner", tenant="globex").get("/ui")
    assert "frame-ancestors 'self';" in globex.headers["content-security-policy"]
    assert globex.headers["x-frame-options"] == "SAMEORIGIN"
    bad = CliRunner().invoke(
        cli,
        ["tenants", "framing", "set", "--tenant", "acme", "https://x.example/path", *db],
        standalone_mode=False,
    )
    assert bad.exit_code != 0
    shown = CliRunner().invoke(cli, ["tenants", "framing", "show", "--tenant", "acme", *db])
    assert shown.output.strip() == "https://app.acme.example http://127.0.0.1:8443"


@pytest.mark.parametrize(
    "origin",
    ["*", "'self'", "https://x.example/p", "javascript:alert(1)", "https://a b", "x.example"],
)
def test_only_bare_origins_may_frame(site: Site, origin: str) -> None:
    from sealtrail.errors import InvalidInput

    with pytest.raises(InvalidInput):
        site.log.set_frame_ancestors("acme", [origin])
