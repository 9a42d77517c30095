"""POST /v1/viewer-sessions and the session link → cookie → page round trip."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.settings import Settings

from .conftest import Site


def test_mint_returns_a_link_a_token_and_the_expiry(site: Site) -> None:
    before = datetime.now(UTC).timestamp()
    minted = site.mint("owner")
    assert set(minted) == {"url", "token", "expires_at", "session_id", "link_expires_at"}
    url = urlparse(minted["url"])
    assert url.path == "/ui/session"
    assert parse_qs(url.query) == {"token": [minted["token"]]}
    assert minted["token"].startswith("vl1.")
    assert minted["session_id"] in minted["token"]
    expires = datetime.fromisoformat(minted["expires_at"].replace("Z", "+00:00")).timestamp()
    assert before + 900 - 5 <= expires <= before + 900 + 5  # Settings.viewer_session_ttl
    link = datetime.fromisoformat(minted["link_expires_at"].replace("Z", "+00:00")).timestamp()
    assert before + 60 - 5 <= link <= before + 60 + 5  # Settings.viewer_link_ttl


def test_the_link_uses_the_public_url_when_one_is_set(site: Site) -> None:
    site.app.state.settings = type(site.settings)(
        database_url=site.settings.database_url,
        signing_key_file=site.settings.signing_key_file,
        public_url="https://audit.example.com/",
    )
    assert site.mint()["url"].startswith("https://audit.example.com/ui/session?token=vl1.")


def test_minting_needs_the_viewer_mint_scope(site: Site) -> None:
    body = {"user": {"id": "u1"}, "role": "owner"}
    reader = site.api(scopes="events:read")
    response = reader.post("/v1/viewer-sessions", json=body)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    anonymous = TestClient(site.app).post("/v1/viewer-sessions", json=body)
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"user": {"id": "u1"}, "role": "superuser"}, {"role"}),
        ({"user": {"id": "u1"}, "role": "account_admin"}, {"account_ids"}),
        ({"user": {"id": "u1"}, "role": "account_admin", "account_ids": []}, {"account_ids"}),
        ({"user": {"id": "u1"}, "role": "account_admin", "account_ids": [""]}, {"account_ids[0]"}),
        ({"user": {"id": "u1"}, "role": "owner", "account_ids": ["a"]}, {"account_ids"}),
        ({"user": {"email": "x@y.z"}, "role": "admin"}, {"user.id"}),
        ({"user": {"id": "u1", "email": "nope"}, "role": "admin"}, {"user.email"}),
        ({"user": {"id": "u1", "admin": True}, "role": "admin"}, {"user.admin"}),
        ({"role": "admin", "tenant_id": "globex"}, {"user", "tenant_id"}),
    ],
)
def test_bad_requests_name_each_bad_field(site: Site, body: object, fields: set[str]) -> None:
    response = site.api().post("/v1/viewer-sessions", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_session_request"
    assert {d["field"] for d in error["details"]} == fields


def test_opening_the_link_sets_an_httponly_cookie_and_drops_the_token(site: Site) -> None:
    minted = site.mint("admin")
    client = TestClient(site.app)
    response = client.get(minted["url"], follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/ui"
    cookie = response.headers["set-cookie"]
    value = cookie.split(";")[0].split("=", 1)[1]
    assert cookie.startswith("sealtrail_viewer=vs1.")
    assert value != minted["token"]
    assert minted["token"].split(".")[3] not in value  # the link's secret is not the cookie's
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # plain http
    max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
    assert 900 - 5 <= max_age <= 900  # the session's own lifetime, no more
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    page = client.get("/ui")
    assert page.status_code == 200
    assert "Audit log" in page.text


def test_over_https_the_cookie_is_secure_and_host_prefixed(site: Site) -> None:
    client = TestClient(site.app, base_url="https://testserver")
    token = site.mint()["token"]
    response = client.get("/ui/session", params={"token": token}, follow_redirects=False)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-sealtrail_viewer=")
    assert "Secure" in cookie
    assert client.get("/ui").status_code == 200


def test_an_expired_link_gets_a_clear_page(site: Site) -> None:
    client = TestClient(site.app)
    response = client.get("/ui/session", params={"token": site.expired_link()})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "This session has expired" in response.text
    assert "Traceback" not in response.text
    assert "set-cookie" not in response.headers


def test_an_expired_cookie_gets_the_same_page_and_a_json_401_on_the_api(site: Site) -> None:
    client = TestClient(site.app)
    client.cookies.set("sealtrail_viewer", site.expired_cookie())
    page = client.get("/ui")
    assert page.status_code == 401
    assert "This session has expired" in page.text
    api = client.get("/v1/events")
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "session_expired"


@pytest.mark.parametrize("part", [0, 1, 2, 3])
def test_a_forged_token_is_refused(site: Site, part: int) -> None:
    token = site.mint("owner")["token"]
    pieces = token.split(".")
    piece = pieces[part]
    pieces[part] = piece[:-2] + ("AA" if piece[-2:] != "AA" else "BB")
    client = TestClient(site.app)
    response = client.get("/ui/session", params={"token": ".".join(pieces)})
    assert response.status_code == 401
    assert "This link is not valid" in response.text


def test_a_link_of_another_database_is_refused(site: Site, tmp_path: Path) -> None:
    other = Settings(
        database_url=f"sqlite:///{tmp_path / 'other.db'}",
        signing_key_file=str(tmp_path / "other.key"),
    )
    log = AuditLog.open(settings=other)
    try:
        log.migrate()
        log.create_tenant("acme")
        minted = log.mint_viewer_session(
            Principal.operator("acme"), {"user": {"id": "u"}, "role": "owner"}
        )
    finally:
        log.close()
    response = TestClient(site.app).get("/ui/session", params={"token": minted.token})
    assert response.status_code == 401
    assert "This link is not valid" in response.text


def test_without_a_session_the_page_says_where_to_go(site: Site) -> None:
    client = TestClient(site.app)
    for path in ("/ui", "/ui/export", "/ui/events/x", "/ui/session"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert "Open the audit log from your product" in response.text


def test_members_are_sent_to_a_page_without_event_data(seeded: Site) -> None:
    minted = seeded.mint("member")
    client = TestClient(seeded.app)
    opened = client.get(minted["url"], follow_redirects=False)
    assert opened.headers["location"] == "/ui/not-allowed"
    for path in ("/ui", "/ui/export", "/ui/events/evt_role_change"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/ui/not-allowed"
    page = client.get("/ui/not-allowed")
    assert page.status_code == 403
    assert "have access to the audit log" in page.text
    for secret in ("member.role_changed", "Tom Becker", "203.0.113.10", "<table"):
        assert secret not in page.text


def test_members_get_403_from_the_json_api(seeded: Site) -> None:
    client = seeded.browser("member")
    for path in ("/v1/events", "/v1/events/evt_role_change", "/v1/events/export", "/v1/checkpoint"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "forbidden"


def test_the_json_api_accepts_a_viewer_session_read_only(seeded: Site) -> None:
    client = seeded.browser("admin")
    listed = client.get("/v1/events", params={"action": "member.role_changed"})
    assert listed.status_code == 200
    assert [e["id"] for e in listed.json()["events"]] == ["evt_role_change"]
    write = client.post(
        "/v1/events", json={"action": "app.created", "actor": {"type": "system", "id": "x"}}
    )
    assert write.status_code == 403
    mint = client.post("/v1/viewer-sessions", json={"user": {"id": "u"}, "role": "owner"})
    assert mint.status_code == 403


def test_a_session_never_crosses_tenants(seeded: Site) -> None:
    client = seeded.browser("owner", tenant="acme")
    page = client.get("/ui", params={"since": ""})
    assert "globex only" not in page.text
    assert client.get("/v1/events", params={"q": "globex"}).json()["events"] == []
    globex = seeded.browser("owner", tenant="globex")
    assert "globex only" in globex.get("/ui").text
    assert "Tom Becker" not in globex.get("/ui", params={"since": ""}).text


def test_sign_out_clears_the_cookie_and_ends_the_session(site: Site) -> None:
    client = site.browser("owner")
    kept = client.cookies["sealtrail_viewer"]
    response = client.post("/ui/sign-out", follow_redirects=False)
    assert response.status_code == 303
    assert 'sealtrail_viewer=""' in response.headers["set-cookie"]
    assert "Max-Age=0" in response.headers["set-cookie"]
    client.cookies.clear()
    assert client.get("/ui").status_code == 401
    assert "signed out" in client.get("/ui/signed-out").text
    # A copy of the cookie kept from before opens nothing: the session itself ended.
    copy = TestClient(site.app)
    copy.cookies.set("sealtrail_viewer", kept)
    page = copy.get("/ui")
    assert page.status_code == 401
    assert "This session has ended" in page.text
    api = copy.get("/v1/events")
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "session_revoked"
