"""The viewer through the real app (FastAPI's TestClient) on a fresh SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sealtrail.audit_log import AuditLog
from sealtrail.events import now_micros
from sealtrail.server.app import create_app
from sealtrail.sessions import SessionRequest, Sessions, ViewerUser
from sealtrail.settings import Settings
from sealtrail.store import open_store
from tests.keys import quiet_api_key

from . import sample

MINT = "events:write,events:read,viewer:mint"


@dataclass
class Site:
    """One app and database, the keys to feed it, and browsers (clients) for its viewers."""

    app: Any
    log: AuditLog
    settings: Settings
    keys: dict[str, str] = field(default_factory=dict)

    def key(self, tenant: str = "acme", scopes: str = MINT) -> str:
        name = f"{tenant}:{scopes}"
        if name not in self.keys:
            self.keys[name] = quiet_api_key(self.log.database_url, tenant, scopes)
        return self.keys[name]

    def api(self, tenant: str = "acme", scopes: str = MINT) -> TestClient:
        client = TestClient(self.app)
        client.headers["Authorization"] = f"Bearer {self.key(tenant, scopes)}"
        return client

    def record(self, events: list[dict[str, Any]], tenant: str = "acme") -> None:
        response = self.api(tenant).post("/v1/events", json={"events": events})
        assert response.status_code == 201, response.text

    def mint(self, role: str = "owner", tenant: str = "acme", **extra: Any) -> dict[str, Any]:
        body = {
            "user": {
                "id": f"usr_{role}",
                "email": f"{role}@acmerobotics.com",
                "name": role.title(),
            },
            "role": role,
            **extra,
        }
        response = self.api(tenant).post("/v1/viewer-sessions", json=body)
        assert response.status_code == 201, response.text
        minted: dict[str, Any] = response.json()
        return minted

    def browser(self, role: str = "owner", tenant: str = "acme", **extra: Any) -> TestClient:
        """A client holding a viewer session's cookie, as a browser would after the link."""
        client = TestClient(self.app)
        opened = client.get(self.mint(role, tenant, **extra)["url"], follow_redirects=False)
        assert opened.status_code == 303, opened.text
        return client

    def past_session(self, role: str = "owner", tenant: str = "acme") -> tuple[str, str]:
        """A link and the cookie it gave, of a session minted an hour ago for a minute
        (written straight to the database, as another process an hour ago would have)."""
        store = open_store(self.settings.database_url)
        try:
            sessions = Sessions(store)
            past = now_micros() - 3600 * 1_000_000
            request = SessionRequest(ViewerUser("usr_late", "late@x.com", "Late"), role, None)  # type: ignore[arg-type]
            _, link = sessions.mint(tenant, request, 60, 60, past)
            _, cookie = sessions.redeem(link, past + 1_000_000)
            _, unused = sessions.mint(tenant, request, 60, 60, past)
        finally:
            store.close()
        return unused, cookie

    def expired_link(self, role: str = "owner", tenant: str = "acme") -> str:
        return self.past_session(role, tenant)[0]

    def expired_cookie(self, role: str = "owner", tenant: str = "acme") -> str:
        return self.past_session(role, tenant)[1]

    def actions(self, tenant: str = "acme", **params: str) -> list[str]:
        response = self.api(tenant).get("/v1/events", params={"limit": "200", **params})
        assert response.status_code == 200, response.text
        return [e["action"] for e in response.json()["events"]]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'viewer.db'}",
        signing_key_file=str(tmp_path / "signing.key"),
        # No background detections: their alert events would join the logs these tests
        # read exactly (tests/detections runs them).
        detections=False,
    )


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    log = AuditLog.open(settings=settings)
    log.migrate()
    log.create_tenant("acme", "Acme Robotics")
    log.create_tenant("globex", "Globex")
    app = create_app(log, settings)
    yield Site(app, log, settings)
    log.close()


@pytest.fixture
def seeded(site: Site) -> Site:
    site.record(sample.events())
    site.record(
        [
            {
                "action": "member.invited",
                "actor": {"type": "user", "id": "g1"},
                "description": "globex only",
            }
        ],
        tenant="globex",
    )
    return site
