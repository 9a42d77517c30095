"""The world the authorization matrix runs in (tests/test_authorization_matrix.py).

Two tenants on one database, served by uvicorn on a loopback port (the two
Server-Sent Events routes never end, so they are read as a browser would: open,
look at the headers, close). ``acme`` is the caller's tenant: accounts ``acc_x``
(the account admin's) and ``acc_y`` (another account). ``globex`` is the other
tenant. Everything of ``globex`` and every event of ``acc_y`` carries a marker
string that no response to the wrong caller may contain.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import httpx
import uvicorn

from sealtrail.audit_log import AuditLog
from sealtrail.auth import SCOPES, Principal, generate_api_key, split_api_key
from sealtrail.events import now_micros
from sealtrail.server.app import create_app
from sealtrail.server.session_cookie import COOKIE
from sealtrail.sessions import SessionRequest, Sessions, ViewerUser
from sealtrail.settings import Settings
from sealtrail.store import open_store
from sealtrail.store.base import ApiKeyRecord
from tests.client.live_server import free_port, wait_until
from tests.keys import quiet_api_key

TENANT_MARK: Final = "zebra4b1fglobex"
"""In the other tenant's events, names, phrases, rules, alerts, erasures, sessions."""
ACCOUNT_MARK: Final = "yak93c2accounty"
"""In the events of ``acc_y``, the account the account admin may not see."""

OWN, OTHER = "acme", "globex"
EVERY_SCOPE: Final = ",".join(SCOPES)
HOOK: Final = "https://127.0.0.1:9/hook"  # loopback, nothing listens: a test send fails fast

# The credentials, in the matrix's column order. A key credential is sent as a Bearer
# token, a viewer credential as the session cookie (from the viewer's own page).
KEY_SCOPES: Final = {
    "write": "events:write",
    "read": "events:read",
    "mint": "viewer:mint",
    "erase": "events:erase",
    "streams": "streams:manage",
    "detect": "detections:manage",
    "all": EVERY_SCOPE,
}
VIEWER_ROLES: Final = {
    "owner": "owner",
    "admin": "admin",
    "member": "member",
    "acct": "account_admin",
}
CREDENTIALS: Final = (
    "none",
    *KEY_SCOPES,
    "revoked",
    "expired",
    "s_expired",
    "s_out",
    *VIEWER_ROLES,
)


def _last_sunday_night() -> str:
    """03:00 UTC on the Sunday before today: outside every weekday's business hours."""
    now = datetime.now(UTC)
    sunday = (now - timedelta(days=now.weekday() + 1)).replace(
        hour=3, minute=0, second=0, microsecond=0
    )
    return sunday.isoformat().replace("+00:00", "Z")


def failed_logins(
    prefix: str, mark: str, account: str | None, ip: str = "203.0.113.7"
) -> list[dict[str, Any]]:
    """Enough failed logins from one address for the built-in rule to open an alert."""
    return [
        {
            "id": f"{prefix}-login-{i}",
            "action": "auth.login",
            "outcome": "failure",
            "ip": ip,
            "account_id": account,
            "actor": {"type": "user", "id": f"u{i}", "email": f"{mark}{i}@example.com"},
        }
        for i in range(12)
    ]


@dataclass
class World:
    app: Any
    log: AuditLog
    settings: Settings
    url: str
    client: httpx.Client
    keys: dict[str, str] = field(default_factory=dict)  # "tenant:scopes" → plain key
    keys_by_credential: dict[str, str] = field(default_factory=dict)  # credential → plain key
    cookies: dict[str, str] = field(default_factory=dict)  # credential → cookie value
    ids: dict[str, str] = field(default_factory=dict)  # what → id of a planted object
    counter: Iterator[int] = field(default_factory=itertools.count)

    # -- credentials ---------------------------------------------------------------------
    def key(self, tenant: str, scopes: str = EVERY_SCOPE) -> str:
        name = f"{tenant}:{scopes}"
        if name not in self.keys:
            self.keys[name] = quiet_api_key(self.log.database_url, tenant, scopes)
        return self.keys[name]

    def api(self, method: str, path: str, tenant: str = OWN, **kwargs: Any) -> httpx.Response:
        """A request with a key of every scope of ``tenant`` (for planting objects)."""
        headers = {"Authorization": f"Bearer {self.key(tenant)}"}
        response = self.client.request(method, path, headers=headers, **kwargs)
        self.client.cookies.clear()
        assert response.status_code < 300, (method, path, response.text)
        return response

    def mint(self, role: str, tenant: str = OWN, user: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "user": {"id": user or f"usr_{role}", "email": f"{role}@example.com"},
            "role": role,
        }
        if role == "account_admin":
            body["account_ids"] = ["acc_x"]
        if tenant == OTHER:
            body["user"]["name"] = f"{TENANT_MARK} user"
        minted: dict[str, Any] = self.api("POST", "/v1/viewer-sessions", tenant, json=body).json()
        return minted

    def cookie(self, role: str, tenant: str = OWN) -> str:
        """A live session's cookie, from its link as a browser gets it."""
        link = self.mint(role, tenant)["url"]
        opened = self.client.get(httpx.URL(link).raw_path.decode())
        self.client.cookies.clear()
        assert opened.status_code == 303, opened.text
        value = opened.cookies.get(COOKIE)
        assert value
        return value

    def headers(self, credential: str, *, fresh: bool = False) -> dict[str, str]:
        """What a request of ``credential`` carries; ``fresh``: a new session of the same
        role, for a request that ends or replaces the session it comes with."""
        if credential == "none":
            return {}
        if credential in self.keys_by_credential:
            return {"Authorization": f"Bearer {self.keys_by_credential[credential]}"}
        if fresh and credential in VIEWER_ROLES:
            return {"Cookie": f"{COOKIE}={self.cookie(VIEWER_ROLES[credential])}"}
        return {"Cookie": f"{COOKIE}={self.cookies[credential]}"}

    def fresh_name(self, stem: str) -> str:
        return f"{stem}-{next(self.counter)}"


def _expired_key(log: AuditLog) -> str:
    fresh = generate_api_key()
    store = open_store(log.database_url)
    try:
        past = now_micros() - 3600 * 1_000_000
        record = ApiKeyRecord(
            fresh.id, OWN, fresh.secret_hash, frozenset(SCOPES), past, expires_at=past + 1
        )
        store.add_api_key(record)
    finally:
        store.close()
    return fresh.plain


def _expired_cookie(log: AuditLog) -> str:
    """The cookie of an owner's session minted an hour ago for a minute."""
    store = open_store(log.database_url)
    try:
        sessions = Sessions(store)
        past = now_micros() - 3600 * 1_000_000
        request = SessionRequest(ViewerUser("usr_late", "late@example.com", "Late"), "owner", None)
        _, link = sessions.mint(OWN, request, 60, 60, past)
        _, cookie = sessions.redeem(link, past + 1_000_000)
    finally:
        store.close()
    return cookie


def _plant(world: World) -> None:
    """The objects the matrix looks up, in both tenants."""
    log, api, ids = world.log, world.api, world.ids
    api(
        "POST",
        "/v1/events",
        OWN,
        json={
            "events": [
                {
                    "id": "ev-own",
                    "action": "member.invited",
                    "account_id": "acc_x",
                    "actor": {"type": "user", "id": "u_ann", "email": "ann@example.com"},
                    "description": "an event of the account admin's account",
                },
                {
                    "id": "ev-accy",
                    "action": "member.invited",
                    "account_id": "acc_y",
                    "actor": {"type": "user", "id": "u_yan", "name": f"{ACCOUNT_MARK} Yan"},
                    "target": {"type": "user", "id": "u_t", "email": f"{ACCOUNT_MARK}@example.com"},
                    "description": f"{ACCOUNT_MARK} in another account",
                    "context": {"note": ACCOUNT_MARK},
                },
                *failed_logins("x", "acme", "acc_x"),
                *failed_logins("y", ACCOUNT_MARK, "acc_y", ip="203.0.113.8"),
            ]
        },
    )
    api(
        "POST",
        "/v1/events",
        OTHER,
        json={
            "events": [
                {
                    "id": "ev-globex",
                    "action": "member.invited",
                    # on a Sunday: the after-hours rule opens an alert naming its actor
                    # (and so the marker) whatever the time of day the suite runs
                    "occurred_at": _last_sunday_night(),
                    "actor": {"type": "user", "id": "u_g", "name": f"{TENANT_MARK} Gus"},
                    "resource": {"type": "project", "id": "p1", "name": f"{TENANT_MARK} project"},
                    "description": f"{TENANT_MARK} of the other tenant",
                    "context": {"note": TENANT_MARK},
                },
                *failed_logins("g", TENANT_MARK, None),
            ]
        },
    )
    operator = Principal.operator(OWN)
    ids["seq-own"] = str(log.get_event(operator, "ev-own").seq)
    ids["seq-accy"] = str(log.get_event(operator, "ev-accy").seq)
    for tenant in (OWN, OTHER):
        log.checkpoint(Principal.operator(tenant))
    for tenant_id, name, consumer in log.detection_consumers():
        follower = log.follower(tenant_id, name, consumer, owner="matrix")
        while follower.step().result != "idle":
            pass
    for name, tenant, prefix in (("acme", OWN, "x"), ("accy", OWN, "y"), ("globex", OTHER, "g")):
        [alert] = [
            a
            for a in log.alerts(Principal.operator(tenant))
            if a.rule == "failed-logins-per-ip"
            and all(e.startswith(f"{prefix}-login-") for e in a.event_ids)
        ]
        ids[f"alert-{name}"] = alert.id

    ids["stream-globex"] = new_stream(world, OTHER)
    ids["stream-acme"] = new_stream(world, OWN)
    ids["search-globex"] = new_saved_search(world, OTHER)
    ids["search-acme"] = new_saved_search(world, OWN)
    ids["rule-globex"] = new_rule(world, OTHER)
    ids["rule-acme"] = new_rule(world, OWN)
    for tenant in (OWN, OTHER):
        erasure = api(
            "POST",
            "/v1/erasures",
            tenant,
            json={
                "subject": {"email": f"nobody@{tenant}.example"},
                "reason": TENANT_MARK if tenant == OTHER else "asked",
            },
        )
        ids[f"erasure-{tenant}"] = erasure.json()["erasure_id"]
    ids["session-globex"] = world.mint("owner", OTHER)["session_id"]
    api(
        "POST",
        "/v1/catalog",
        OTHER,
        json={
            "name": "zebra.made",
            "category": "zebras",
            "kind": "create",
            "description": f"{TENANT_MARK} type",
        },
    )


def new_stream(world: World, tenant: str) -> str:
    mark = f"{TENANT_MARK} " if tenant == OTHER else ""
    body = {
        "name": world.fresh_name(f"{mark}siem"),
        "destination": {"type": "webhook", "url": HOOK},
        "format": "json",
        "filter": TENANT_MARK if tenant == OTHER else "action:member.*",
    }
    created: str = world.api("POST", "/v1/streams", tenant, json=body).json()["id"]
    return created


def new_saved_search(world: World, tenant: str, cookie_of: str | None = None) -> str:
    """A shared saved search of ``tenant``, or (``cookie_of``) a viewer's private one."""
    mark = f"{TENANT_MARK} " if tenant == OTHER else ""
    body = {
        "name": world.fresh_name(f"{mark}view"),
        "phrase": TENANT_MARK if tenant == OTHER else "action:member.*",
        "shared": cookie_of is None,
    }
    if cookie_of is None:
        response = world.api("POST", "/v1/saved-searches", tenant, json=body)
    else:
        response = world.client.post(
            "/v1/saved-searches", json=body, headers=world.headers(cookie_of)
        )
        world.client.cookies.clear()
        assert response.status_code == 201, response.text
    made: str = response.json()["id"]
    return made


def new_rule(world: World, tenant: str) -> str:
    name = world.fresh_name(f"{tenant}-rule")
    body = {
        "name": name,
        "phrase": TENANT_MARK if tenant == OTHER else "action:member.*",
        "condition": "first time (actor)",
        "severity": "low",
    }
    world.api("POST", "/v1/detections", tenant, json=body)
    return name


def new_session(world: World) -> str:
    made: str = world.mint("admin", OWN, user="usr_revokee")["session_id"]
    return made


def serve(tmp_path: Path, database_url: str) -> Iterator[World]:
    settings = Settings(
        database_url=database_url,
        signing_key_file=str(tmp_path / "signing.key"),
        # Nothing in the background: the matrix reads what it planted, and a limit
        # would answer 429 to a row that means to test a scope.
        detections=False,
        stream_delivery=False,
        rate_limits=False,
        stream_allow_private_destinations=True,  # HOOK is a loopback address
    )
    log = AuditLog.open(settings=settings)
    log.migrate()
    log.create_tenant(OWN, "Acme")
    log.create_tenant(OTHER, f"{TENANT_MARK} Globex")
    port = free_port()
    app = create_app(log, settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 20, "uvicorn to start")
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            world = World(app, log, settings, url, client)
            for credential, scopes in KEY_SCOPES.items():
                world.keys_by_credential[credential] = world.key(OWN, scopes)
            revoked = quiet_api_key(log.database_url, OWN, EVERY_SCOPE)
            log.revoke_api_key(split_api_key(revoked)[0])
            world.keys_by_credential["revoked"] = revoked
            world.keys_by_credential["expired"] = _expired_key(log)
            for credential, role in VIEWER_ROLES.items():
                world.cookies[credential] = world.cookie(role)
            world.cookies["s_expired"] = _expired_cookie(log)
            signed_out = world.cookie("owner")
            left = client.post("/ui/sign-out", headers={"Cookie": f"{COOKIE}={signed_out}"})
            client.cookies.clear()
            assert left.status_code == 303
            world.cookies["s_out"] = signed_out
            _plant(world)
            world.ids["search-private"] = new_saved_search(world, OWN, cookie_of="owner")
            yield world
    finally:
        server.should_exit = True
        thread.join(10)
        log.close()
