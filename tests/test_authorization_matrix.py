"""The authorization matrix (issue 16): every route × every credential × whose object.

``EXPECTED`` below is written by hand, one row per route of the app, one column per
credential (``authz_world.CREDENTIALS``). A cell is the status of a request for the
caller's own tenant; ``200/404`` means 200 for an object of the caller's own (and, for
events, of an account it may see) and 404 for an id that does not exist. A route the
app has and the table lacks fails ``test_every_route_has_a_row``.

For each route that takes an id, the same request is also made with the id of the
other tenant's object (and, where a role is kept from part of its tenant, of an
object hidden from that role): it must answer exactly as a missing id does, status
and body alike, with the id written in the same place — no existence oracle. And no
response to any of these requests may hold a byte planted in the other tenant, or,
for the account admin, in the account it does not see (``authz_world``).
"""

# ruff: noqa: E501 (EXPECTED is a table, one route per line, wider than a line of code)
from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import httpx
import pytest

from tests.authz_world import (
    ACCOUNT_MARK,
    CREDENTIALS,
    HOOK,
    OTHER,
    OWN,
    TENANT_MARK,
    World,
    new_rule,
    new_saved_search,
    new_session,
    new_stream,
    serve,
)
from tests.conftest import fresh_postgres_database
from tests.routes import every_route

# One worker runs the whole module: its world (two tenants, a server) is built once.
pytestmark = pytest.mark.xdist_group("authorization_matrix")

# fmt: off
# Columns: none: no credential · write … detect: a key of that one scope of the caller's
# tenant (write events:write, read events:read, mint viewer:mint, erase events:erase,
# streams streams:manage, detect detections:manage) · all: a key of every scope ·
# revoked / expired: a key of every scope, revoked / past its expiry · s_exp / s_out:
# an owner's viewer session, expired / signed out · owner, admin, member, acct (an
# account admin of acc_x): a live viewer session of that role.
EXPECTED: Final[dict[tuple[str, str], str]] = {
    # route                                              none write read    mint    erase   strms   detect  all     revkd exprd s_exp s_out owner   admin   member acct
    ("GET", "/openapi.json"):                            "200  200  200     200     200     200     200     200     200   200   200   200   200     200     200    200",
    ("HEAD", "/openapi.json"):                           "200  200  200     200     200     200     200     200     200   200   200   200   200     200     200    200",
    ("GET", "/healthz"):                                 "200  200  200     200     200     200     200     200     200   200   200   200   200     200     200    200",
    ("GET", "/readyz"):                                  "200  200  200     200     200     200     200     200     200   200   200   200   200     200     200    200",
    ("GET", "/metrics"):                                 "200  200  200     200     200     200     200     200     200   200   200   200   200     200     200    200",
    ("GET", "/docs"):                                    "200  200  200     200     200     200     200     200     200   200   200   200   200     200     200    200",
    ("MOUNT", "/docs/assets"):                           "200  200  200     200     200     200     200     200     200   200   200   200   200     200     200    200",
    ("POST", "/v1/events"):                              "401  201  403     403     403     403     403     201     401   401   401   401   403     403     403    403",
    ("GET", "/v1/events"):                               "401  403  200     403     403     403     403     200     401   401   401   401   200     200     403    200",
    ("GET", "/v1/events/stream"):                        "401  403  200     403     403     403     403     200     401   401   401   401   200     200     403    200",
    ("GET", "/v1/events/export"):                        "401  403  200     403     403     403     403     200     401   401   401   401   200     200     403    200",
    ("GET", "/v1/events/histogram"):                     "401  403  200     403     403     403     403     200     401   401   401   401   200     200     403    200",
    ("GET", "/v1/events/{event_id}"):                    "401  403  200/404 403     403     403     403     200/404 401   401   401   401   200/404 200/404 403    200/404",
    ("GET", "/v1/events/{event_id}/proof"):              "401  403  200/404 403     403     403     403     200/404 401   401   401   401   200/404 200/404 403    200/404",
    ("GET", "/v1/checkpoint"):                           "401  403  200     403     403     403     403     200     401   401   401   401   200     200     403    200",
    ("GET", "/v1/proofs/inclusion"):                     "401  403  200/404 403     403     403     403     200/404 401   401   401   401   200/404 200/404 403    200/404",
    ("GET", "/v1/proofs/consistency"):                   "401  403  200     403     403     403     403     200     401   401   401   401   200     200     403    200",
    ("GET", "/api/organization/rbac/members/audit-log"): "401  403  200     403     403     403     403     200     401   401   401   401   200     200     403    200",
    ("GET", "/v1/catalog"):                              "401  200  200     200     200     200     200     200     401   401   401   401   200     200     403    200",
    ("POST", "/v1/catalog"):                             "401  201  403     403     403     403     403     201     401   401   401   401   403     403     403    403",
    ("POST", "/v1/viewer-sessions"):                     "401  403  403     201     403     403     403     201     401   401   401   401   403     403     403    403",
    ("DELETE", "/v1/viewer-sessions"):                   "401  403  403     200     403     403     403     200     401   401   401   401   403     403     403    403",
    ("DELETE", "/v1/viewer-sessions/{session_id}"):      "401  403  403     204/404 403     403     403     204/404 401   401   401   401   403     403     403    403",
    ("POST", "/v1/erasures"):                            "401  403  403     403     202     403     403     202     401   401   401   401   403     403     403    403",
    ("GET", "/v1/erasures/{erasure_id}"):                "401  403  403     403     200/404 403     403     200/404 401   401   401   401   403     403     403    403",
    ("GET", "/v1/retention"):                            "401  403  200     403     403     403     403     200     401   401   401   401   200     200     403    200",
    ("PUT", "/v1/retention"):                            "401  403  403     403     200     403     403     200     401   401   401   401   403     403     403    403",
    ("GET", "/v1/saved-searches"):                       "401  403  200     403     403     403     403     200     401   401   401   401   200     200     403    403",
    ("POST", "/v1/saved-searches"):                      "401  403  201     403     403     403     403     201     401   401   401   401   201     201     403    403",
    ("DELETE", "/v1/saved-searches/{search_id}"):        "401  403  204/404 403     403     403     403     204/404 401   401   401   401   204/404 204/404 403    403",
    ("POST", "/v1/streams"):                             "401  403  403     403     403     201     403     201     401   401   401   401   403     403     403    403",
    ("GET", "/v1/streams"):                              "401  403  403     403     403     200     403     200     401   401   401   401   403     403     403    403",
    ("GET", "/v1/streams/{stream_id}"):                  "401  403  403     403     403     200/404 403     200/404 401   401   401   401   403     403     403    403",
    ("PATCH", "/v1/streams/{stream_id}"):                "401  403  403     403     403     200/404 403     200/404 401   401   401   401   403     403     403    403",
    ("DELETE", "/v1/streams/{stream_id}"):               "401  403  403     403     403     204/404 403     204/404 401   401   401   401   403     403     403    403",
    ("POST", "/v1/streams/{stream_id}/test"):            "401  403  403     403     403     200/404 403     200/404 401   401   401   401   403     403     403    403",
    ("POST", "/v1/streams/{stream_id}/replay"):          "401  403  403     403     403     202/404 403     202/404 401   401   401   401   403     403     403    403",
    ("POST", "/v1/streams/{stream_id}/rotate-secret"):   "401  403  403     403     403     200/404 403     200/404 401   401   401   401   403     403     403    403",
    ("GET", "/v1/streams/{stream_id}/deliveries"):       "401  403  403     403     403     200/404 403     200/404 401   401   401   401   403     403     403    403",
    ("GET", "/v1/detections"):                           "401  403  403     403     403     403     200     200     401   401   401   401   403     403     403    403",
    ("POST", "/v1/detections"):                          "401  403  403     403     403     403     201     201     401   401   401   401   403     403     403    403",
    ("POST", "/v1/detection-tests"):                     "401  403  403     403     403     403     403     200     401   401   401   401   403     403     403    403",
    ("GET", "/v1/detections/{name}"):                    "401  403  403     403     403     403     200/404 200/404 401   401   401   401   403     403     403    403",
    ("PATCH", "/v1/detections/{name}"):                  "401  403  403     403     403     403     200/404 200/404 401   401   401   401   403     403     403    403",
    ("DELETE", "/v1/detections/{name}"):                 "401  403  403     403     403     403     204/404 204/404 401   401   401   401   403     403     403    403",
    ("GET", "/v1/detection-settings"):                   "401  403  403     403     403     403     200     200     401   401   401   401   403     403     403    403",
    ("PUT", "/v1/detection-settings"):                   "401  403  403     403     403     403     200     200     401   401   401   401   403     403     403    403",
    ("GET", "/v1/alerts"):                               "401  403  200     403     403     403     403     200     401   401   401   401   200     200     403    200",
    ("GET", "/v1/alerts/{alert_id}"):                    "401  403  200/404 403     403     403     403     200/404 401   401   401   401   200/404 200/404 403    200/404",
    ("POST", "/v1/alerts/{alert_id}/acknowledge"):       "401  403  403     403     403     403     200/404 200/404 401   401   401   401   200/404 200/404 403    403",
    ("POST", "/v1/alerts/{alert_id}/resolve"):           "401  403  403     403     403     403     200/404 200/404 401   401   401   401   200/404 200/404 403    403",
    # The viewer: a key is no viewer credential, so every key column reads as "none".
    ("MOUNT", "/ui/static"):                             "200  200  200     200     200     200     200     200     200   200   200   200   200     200     200    200",
    ("GET", "/ui/session"):                              "303  303  303     303     303     303     303     303     303   303   303   303   200     200     200    200",
    ("POST", "/ui/session"):                             "303  303  303     303     303     303     303     303     303   303   303   303   303     303     303    303",
    ("POST", "/ui/sign-out"):                            "303  303  303     303     303     303     303     303     303   303   303   303   303     303     303    303",
    ("GET", "/ui/signed-out"):                           "200  200  200     200     200     200     200     200     200   200   200   200   200     200     200    200",
    ("GET", "/ui/not-allowed"):                          "403  403  403     403     403     403     403     403     403   403   403   403   403     403     403    403",
    ("GET", "/ui"):                                      "401  401  401     401     401     401     401     401     401   401   401   401   200     200     303    200",
    ("GET", "/ui/events/{event_id:path}"):               "401  401  401     401     401     401     401     401     401   401   401   401   200/404 200/404 303    200/404",
    ("GET", "/ui/verify/{event_id:path}"):               "401  401  401     401     401     401     401     401     401   401   401   401   200/404 200/404 303    200/404",
    ("GET", "/ui/export"):                               "401  401  401     401     401     401     401     401     401   401   401   401   200     200     303    200",
    ("GET", "/ui/live"):                                 "401  401  401     401     401     401     401     401     401   401   401   401   200     200     303    200",
    ("POST", "/ui/saved-views"):                         "401  401  401     401     401     401     401     401     401   401   401   401   303     303     303    403",
    ("POST", "/ui/saved-views/{search_id}/delete"):      "401  401  401     401     401     401     401     401     401   401   401   401   303/404 303/404 303    403",
    ("POST", "/ui/alerts/{alert_id}/acknowledge"):       "401  401  401     401     401     401     401     401     401   401   401   401   303/404 303/404 303    403",
    ("POST", "/ui/alerts/{alert_id}/resolve"):           "401  401  401     401     401     401     401     401     401   401   401   401   303/404 303/404 303    403",
    ("GET", "/ui/{anything:path}"):                      "404  404  404     404     404     404     404     404     404   404   404   404   404     404     404    404",
}
# fmt: on

# Requests that end or replace the session they come with get a fresh one of the role.
ENDS_SESSION: Final = {("POST", "/ui/session"), ("POST", "/ui/sign-out")}
# Endless responses: opened, their status and headers read, closed.
ENDLESS: Final = {("GET", "/v1/events/stream"), ("GET", "/ui/live")}


def cells(route: tuple[str, str]) -> dict[str, tuple[int, int]]:
    """credential → (status for an own object, status for a missing one)."""
    row = EXPECTED[route].split()
    assert len(row) == len(CREDENTIALS), f"{route}: {len(row)} cells"
    out: dict[str, tuple[int, int]] = {}
    for credential, cell in zip(CREDENTIALS, row, strict=True):
        own, _, missing = cell.partition("/")
        out[credential] = (int(own), int(missing or own))
    return out


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, str] | None = None
    json: Any = None
    form: dict[str, str] | None = None


@dataclass(frozen=True)
class Lookup:
    """The ids a route is asked for: an own object (``own`` may make a fresh one, for a
    request that deletes it), the other tenant's, one of the own tenant hidden from
    some credentials, and one that exists nowhere."""

    own: Callable[[World], str]
    other_tenant: Callable[[World], str] | None
    missing: str
    hidden: Callable[[World], str] | None = None
    hidden_from: frozenset[str] = frozenset()


def unlike(ident: str) -> str:
    """An id of the same shape as ``ident`` that names nothing."""
    tail = "".join("1" if c == "0" else "0" for c in ident[-6:])
    return ident[:-6] + tail


def _id(name: str) -> Callable[[World], str]:
    return lambda world: world.ids[name]


MISSING_STREAM: Final = "str_0190d4c2e8a87c3b9d1e000000000000"
EVENT_LOOKUP: Final = Lookup(
    own=lambda w: "ev-own",
    other_tenant=lambda w: "ev-globex",
    missing="ev-missing",
    hidden=lambda w: "ev-accy",
    hidden_from=frozenset({"acct"}),
)
SHARED_SEARCH: Final = Lookup(
    own=lambda w: new_saved_search(w, OWN),
    other_tenant=_id("search-globex"),
    missing="ss_0190d4c2e8a87c3b9d1e000000000000",
    # The owner's private search: every other credential must not tell it exists.
    hidden=lambda w: new_saved_search(w, OWN, cookie_of="owner"),
    hidden_from=frozenset(set(CREDENTIALS) - {"owner"}),
)
STREAM: Final = Lookup(_id("stream-acme"), _id("stream-globex"), MISSING_STREAM)
FRESH_STREAM: Final = Lookup(lambda w: new_stream(w, OWN), _id("stream-globex"), MISSING_STREAM)
RULE: Final = Lookup(_id("rule-acme"), _id("rule-globex"), "no-such-rule-1")
FRESH_RULE: Final = Lookup(lambda w: new_rule(w, OWN), _id("rule-globex"), "no-such-rule-1")
# The own alert counts events of acc_x only; the hidden one, of acc_y only.
ALERT: Final = Lookup(
    _id("alert-acme"),
    _id("alert-globex"),
    "0190d4c2-e8a8-7c3b-9d1e-000000000000",
    _id("alert-accy"),
    frozenset({"acct"}),
)


def _form(world: World) -> dict[str, str]:
    return {"name": world.fresh_name("view"), "phrase": "action:member.*", "shared": "1"}


def _link(world: World) -> str:
    """A fresh, unused link of another user of the caller's tenant."""
    url = world.mint("owner", OWN, user="usr_linkee")["url"]
    token: str = httpx.URL(url).params["token"]
    return token


CALLS: Final[dict[tuple[str, str], Callable[[World, str], Call]]] = {
    ("GET", "/openapi.json"): lambda w, i: Call("GET", "/openapi.json"),
    ("HEAD", "/openapi.json"): lambda w, i: Call("HEAD", "/openapi.json"),
    ("GET", "/healthz"): lambda w, i: Call("GET", "/healthz"),
    ("GET", "/readyz"): lambda w, i: Call("GET", "/readyz"),
    ("GET", "/metrics"): lambda w, i: Call("GET", "/metrics"),
    ("GET", "/docs"): lambda w, i: Call("GET", "/docs"),
    ("MOUNT", "/docs/assets"): lambda w, i: Call("GET", "/docs/assets/swagger-ui.css"),
    ("POST", "/v1/events"): lambda w, i: Call(
        "POST",
        "/v1/events",
        json={"action": "member.invited", "actor": {"type": "user", "id": "u"}},
    ),
    ("GET", "/v1/events"): lambda w, i: Call("GET", "/v1/events", {"limit": "200"}),
    ("GET", "/v1/events/stream"): lambda w, i: Call("GET", "/v1/events/stream"),
    ("GET", "/v1/events/export"): lambda w, i: Call("GET", "/v1/events/export", {"format": "csv"}),
    ("GET", "/v1/events/histogram"): lambda w, i: Call("GET", "/v1/events/histogram"),
    ("GET", "/v1/events/{event_id}"): lambda w, i: Call("GET", f"/v1/events/{i}"),
    ("GET", "/v1/events/{event_id}/proof"): lambda w, i: Call("GET", f"/v1/events/{i}/proof"),
    ("GET", "/v1/checkpoint"): lambda w, i: Call("GET", "/v1/checkpoint"),
    ("GET", "/v1/proofs/inclusion"): lambda w, i: Call("GET", "/v1/proofs/inclusion", {"seq": i}),
    ("GET", "/v1/proofs/consistency"): lambda w, i: Call(
        "GET", "/v1/proofs/consistency", {"first": "1"}
    ),
    ("GET", "/api/organization/rbac/members/audit-log"): lambda w, i: Call(
        "GET", "/api/organization/rbac/members/audit-log", {"limit": "200"}
    ),
    ("GET", "/v1/catalog"): lambda w, i: Call("GET", "/v1/catalog"),
    ("POST", "/v1/catalog"): lambda w, i: Call(
        "POST",
        "/v1/catalog",
        json={
            "name": f"report.made_{next(w.counter)}",
            "category": "reports",
            "kind": "create",
            "description": "d",
        },
    ),
    ("POST", "/v1/viewer-sessions"): lambda w, i: Call(
        "POST", "/v1/viewer-sessions", json={"user": {"id": "usr_new"}, "role": "admin"}
    ),
    ("DELETE", "/v1/viewer-sessions"): lambda w, i: Call(
        "DELETE", "/v1/viewer-sessions", {"user_id": "usr_nobody"}
    ),
    ("DELETE", "/v1/viewer-sessions/{session_id}"): lambda w, i: Call(
        "DELETE", f"/v1/viewer-sessions/{i}"
    ),
    ("POST", "/v1/erasures"): lambda w, i: Call(
        "POST", "/v1/erasures", json={"subject": {"email": "nobody@acme.example"}, "reason": "r"}
    ),
    ("GET", "/v1/erasures/{erasure_id}"): lambda w, i: Call("GET", f"/v1/erasures/{i}"),
    ("GET", "/v1/retention"): lambda w, i: Call("GET", "/v1/retention"),
    ("PUT", "/v1/retention"): lambda w, i: Call(
        "PUT", "/v1/retention", json={"days": None, "rules": []}
    ),
    ("GET", "/v1/saved-searches"): lambda w, i: Call("GET", "/v1/saved-searches"),
    ("POST", "/v1/saved-searches"): lambda w, i: Call(
        "POST",
        "/v1/saved-searches",
        json={"name": w.fresh_name("saved"), "phrase": "action:member.*", "shared": True},
    ),
    ("DELETE", "/v1/saved-searches/{search_id}"): lambda w, i: Call(
        "DELETE", f"/v1/saved-searches/{i}"
    ),
    ("POST", "/v1/streams"): lambda w, i: Call(
        "POST",
        "/v1/streams",
        json={
            "name": w.fresh_name("siem"),
            "destination": {"type": "webhook", "url": HOOK},
            "format": "json",
        },
    ),
    ("GET", "/v1/streams"): lambda w, i: Call("GET", "/v1/streams"),
    ("GET", "/v1/streams/{stream_id}"): lambda w, i: Call("GET", f"/v1/streams/{i}"),
    ("PATCH", "/v1/streams/{stream_id}"): lambda w, i: Call(
        "PATCH", f"/v1/streams/{i}", json={"status": "paused"}
    ),
    ("DELETE", "/v1/streams/{stream_id}"): lambda w, i: Call("DELETE", f"/v1/streams/{i}"),
    ("POST", "/v1/streams/{stream_id}/test"): lambda w, i: Call("POST", f"/v1/streams/{i}/test"),
    ("POST", "/v1/streams/{stream_id}/replay"): lambda w, i: Call(
        "POST", f"/v1/streams/{i}/replay", json={"from_seq": 0}
    ),
    ("POST", "/v1/streams/{stream_id}/rotate-secret"): lambda w, i: Call(
        "POST", f"/v1/streams/{i}/rotate-secret", json={"overlap_seconds": 0}
    ),
    ("GET", "/v1/streams/{stream_id}/deliveries"): lambda w, i: Call(
        "GET", f"/v1/streams/{i}/deliveries"
    ),
    ("GET", "/v1/detections"): lambda w, i: Call("GET", "/v1/detections"),
    ("POST", "/v1/detections"): lambda w, i: Call(
        "POST",
        "/v1/detections",
        json={
            "name": w.fresh_name("made"),
            "phrase": "action:member.*",
            "condition": "first time (actor)",
            "severity": "low",
        },
    ),
    ("POST", "/v1/detection-tests"): lambda w, i: Call(
        "POST", "/v1/detection-tests", json={"rule": "failed-logins-per-ip", "since": "1d"}
    ),
    ("GET", "/v1/detections/{name}"): lambda w, i: Call("GET", f"/v1/detections/{i}"),
    ("PATCH", "/v1/detections/{name}"): lambda w, i: Call(
        "PATCH", f"/v1/detections/{i}", json={"severity": "high"}
    ),
    ("DELETE", "/v1/detections/{name}"): lambda w, i: Call("DELETE", f"/v1/detections/{i}"),
    ("GET", "/v1/detection-settings"): lambda w, i: Call("GET", "/v1/detection-settings"),
    ("PUT", "/v1/detection-settings"): lambda w, i: Call("PUT", "/v1/detection-settings", json={}),
    ("GET", "/v1/alerts"): lambda w, i: Call("GET", "/v1/alerts"),
    ("GET", "/v1/alerts/{alert_id}"): lambda w, i: Call("GET", f"/v1/alerts/{i}"),
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): lambda w, i: Call(
        "POST", f"/v1/alerts/{i}/acknowledge"
    ),
    ("POST", "/v1/alerts/{alert_id}/resolve"): lambda w, i: Call("POST", f"/v1/alerts/{i}/resolve"),
    ("MOUNT", "/ui/static"): lambda w, i: Call("GET", "/ui/static/viewer.css"),
    ("GET", "/ui/session"): lambda w, i: Call("GET", "/ui/session", {"token": _link(w)}),
    ("POST", "/ui/session"): lambda w, i: Call("POST", "/ui/session", form={"token": _link(w)}),
    ("POST", "/ui/sign-out"): lambda w, i: Call("POST", "/ui/sign-out"),
    ("GET", "/ui/signed-out"): lambda w, i: Call("GET", "/ui/signed-out"),
    ("GET", "/ui/not-allowed"): lambda w, i: Call("GET", "/ui/not-allowed"),
    ("GET", "/ui"): lambda w, i: Call("GET", "/ui", {"since": "2000-01-01"}),
    ("GET", "/ui/events/{event_id:path}"): lambda w, i: Call("GET", f"/ui/events/{i}"),
    ("GET", "/ui/verify/{event_id:path}"): lambda w, i: Call("GET", f"/ui/verify/{i}"),
    ("GET", "/ui/export"): lambda w, i: Call("GET", "/ui/export", {"since": "2000-01-01"}),
    ("GET", "/ui/live"): lambda w, i: Call("GET", "/ui/live"),
    ("POST", "/ui/saved-views"): lambda w, i: Call("POST", "/ui/saved-views", form=_form(w)),
    ("POST", "/ui/saved-views/{search_id}/delete"): lambda w, i: Call(
        "POST", f"/ui/saved-views/{i}/delete", form={"back": ""}
    ),
    ("POST", "/ui/alerts/{alert_id}/acknowledge"): lambda w, i: Call(
        "POST", f"/ui/alerts/{i}/acknowledge", form={"back": ""}
    ),
    ("POST", "/ui/alerts/{alert_id}/resolve"): lambda w, i: Call(
        "POST", f"/ui/alerts/{i}/resolve", form={"back": ""}
    ),
    ("GET", "/ui/{anything:path}"): lambda w, i: Call("GET", "/ui/no/such/page"),
}

LOOKUPS: Final[dict[tuple[str, str], Lookup]] = {
    ("GET", "/v1/events/{event_id}"): EVENT_LOOKUP,
    ("GET", "/v1/events/{event_id}/proof"): EVENT_LOOKUP,
    ("GET", "/ui/events/{event_id:path}"): EVENT_LOOKUP,
    ("GET", "/ui/verify/{event_id:path}"): EVENT_LOOKUP,
    # A seq names a leaf of the caller's own tenant's tree: there is no other tenant's.
    ("GET", "/v1/proofs/inclusion"): Lookup(
        _id("seq-own"), None, "1000000", _id("seq-accy"), frozenset({"acct"})
    ),
    ("DELETE", "/v1/viewer-sessions/{session_id}"): Lookup(
        new_session, _id("session-globex"), "vs_00000000000000000000abcd"
    ),
    ("GET", "/v1/erasures/{erasure_id}"): Lookup(
        _id("erasure-acme"), _id("erasure-globex"), "er_0190d4c2e8a87c3b9d1e000000000000"
    ),
    ("DELETE", "/v1/saved-searches/{search_id}"): SHARED_SEARCH,
    ("POST", "/ui/saved-views/{search_id}/delete"): SHARED_SEARCH,
    ("GET", "/v1/streams/{stream_id}"): STREAM,
    ("PATCH", "/v1/streams/{stream_id}"): STREAM,
    ("DELETE", "/v1/streams/{stream_id}"): FRESH_STREAM,
    ("POST", "/v1/streams/{stream_id}/test"): STREAM,
    ("POST", "/v1/streams/{stream_id}/replay"): STREAM,
    ("POST", "/v1/streams/{stream_id}/rotate-secret"): STREAM,
    ("GET", "/v1/streams/{stream_id}/deliveries"): STREAM,
    ("GET", "/v1/detections/{name}"): RULE,
    ("PATCH", "/v1/detections/{name}"): RULE,
    ("DELETE", "/v1/detections/{name}"): FRESH_RULE,
    ("GET", "/v1/alerts/{alert_id}"): ALERT,
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): ALERT,
    ("POST", "/v1/alerts/{alert_id}/resolve"): ALERT,
    ("POST", "/ui/alerts/{alert_id}/acknowledge"): ALERT,
    ("POST", "/ui/alerts/{alert_id}/resolve"): ALERT,
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The matrix's world on SQLite."""
    path = tmp_path_factory.mktemp("matrix")
    yield from serve(path, f"sqlite:///{path / 'matrix.db'}")


@pytest.fixture(scope="module")
def postgres_world(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: str
) -> Iterator[World]:
    """The same world on PostgreSQL, for the lookups by id (its own SQL and indexes)."""
    with fresh_postgres_database(postgres_server) as url:
        yield from serve(tmp_path_factory.mktemp("matrix-pg"), url)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: str
    body: str  # "" for an endless response: only its headers are read


def ask(world: World, route: tuple[str, str], credential: str, ident: str) -> Answer:
    call = CALLS[route](world, ident)
    headers = world.headers(credential, fresh=route in ENDS_SESSION)
    request = world.client.build_request(
        call.method, call.path, params=call.params, json=call.json, data=call.form, headers=headers
    )
    response = world.client.send(request, stream=True)
    try:
        endless = route in ENDLESS and response.status_code == 200
        body = "" if endless else response.read().decode("utf-8", "replace")
    finally:
        response.close()
        world.client.cookies.clear()
    seen = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return Answer(response.status_code, seen, body)


def spellings(mark: str) -> tuple[str, ...]:
    """``mark`` as itself and inside base64 at each of its three alignments (a proof
    file carries an event's leaf bytes in base64): the characters no neighbour changes."""
    out = [mark]
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + mark.encode()).decode().rstrip("=")
        out.append(encoded[(4 if pad else 0) : -4])
    return tuple(out)


TENANT_SPELLINGS: Final = spellings(TENANT_MARK)
ACCOUNT_SPELLINGS: Final = spellings(ACCOUNT_MARK)


def leaks(answer: Answer, credential: str) -> list[str]:
    """The planted markers a response to ``credential`` holds."""
    text = answer.headers + "\n" + answer.body
    found = [s for s in TENANT_SPELLINGS if s in text]
    if credential == "acct":
        found += [s for s in ACCOUNT_SPELLINGS if s in text]
    return found


def same_as_missing(answer: Answer, ident: str, missing: Answer, missing_id: str) -> bool:
    """Whether two answers are the same once each one's own id is written as <ID>."""

    def plain(one: Answer, i: str) -> tuple[int, str]:
        return one.status, re.sub(re.escape(i), "<ID>", one.body)

    return plain(answer, ident) == plain(missing, missing_id)


def app_routes(world: World) -> set[tuple[str, str]]:
    app = world.app
    out: set[tuple[str, str]] = set()
    for path, methods in every_route(app.routes):
        out |= {(m, path) for m in methods} if methods else {("MOUNT", path)}
    return out


def test_every_route_has_a_row(world: World) -> None:
    routes = app_routes(world)
    assert not routes - set(EXPECTED), "routes without a row in EXPECTED"
    assert not set(EXPECTED) - routes, "rows for routes the app no longer has"
    assert set(CALLS) == set(EXPECTED)
    assert set(LOOKUPS) == {r for r in EXPECTED if "{" in r[1] and "anything" not in r[1]} | {
        ("GET", "/v1/proofs/inclusion")
    }


def test_the_markers_are_there_for_those_who_may_read_them(world: World) -> None:
    """The leak checks below would pass on empty answers; these show the markers are
    where a rightful reader finds them."""
    for path in (
        "/v1/events",
        "/v1/streams",
        "/v1/saved-searches",
        "/v1/detections",
        "/v1/catalog",
        f"/v1/erasures/{world.ids['erasure-globex']}",
        "/v1/alerts",
    ):
        assert TENANT_MARK in world.api("GET", path, OTHER).text, path
    owner = world.headers("owner")
    for path in ("/v1/events", "/ui/export?since=2000-01-01", "/ui/events/ev-accy"):
        shown = world.client.get(path, headers=owner)
        world.client.cookies.clear()
        assert shown.status_code == 200 and ACCOUNT_MARK in shown.text, path


def route_id(route: tuple[str, str]) -> str:
    return f"{route[0]} {route[1]}"


@pytest.mark.parametrize("route", sorted(EXPECTED), ids=route_id)
def test_the_matrix(world: World, route: tuple[str, str]) -> None:
    check(world, route)


@pytest.mark.postgres
@pytest.mark.parametrize("route", sorted(LOOKUPS), ids=route_id)
def test_the_lookups_by_id_on_postgresql(postgres_world: World, route: tuple[str, str]) -> None:
    check(postgres_world, route)


def check(world: World, route: tuple[str, str]) -> None:
    """One row of the matrix: every credential, and for a lookup every whose-object."""
    lookup = LOOKUPS.get(route)
    wrong: list[str] = []
    for credential, (own_status, missing_status) in cells(route).items():
        own_id = lookup.own(world) if lookup else ""
        answer = ask(world, route, credential, own_id)
        if answer.status != own_status:
            wrong.append(
                f"{credential}: {answer.status}, expected {own_status}: {answer.body[:160]}"
            )
        wrong += [f"{credential}: {m} leaked" for m in leaks(answer, credential)]
        if lookup is None:
            continue
        missing = ask(world, route, credential, lookup.missing)
        if missing.status != missing_status:
            wrong.append(
                f"{credential} (missing id): {missing.status}, expected {missing_status}:"
                f" {missing.body[:160]}"
            )
        others: list[tuple[str, str]] = []
        if lookup.other_tenant is not None:
            others.append(("other tenant", lookup.other_tenant(world)))
        if lookup.hidden is not None and credential in lookup.hidden_from:
            others.append(("hidden", lookup.hidden(world)))
        for what, ident in others:
            other = ask(world, route, credential, ident)
            wrong += [f"{credential} ({what}): {m} leaked" for m in leaks(other, credential)]
            if not same_as_missing(other, ident, missing, lookup.missing):
                wrong.append(
                    f"{credential} ({what} {ident}): {other.status} {other.body[:200]!r}"
                    f" differs from a missing id's {missing.status} {missing.body[:200]!r}"
                )
    assert not wrong, "\n".join(wrong)


def test_a_key_or_session_of_another_tenant_answers_like_none(world: World) -> None:
    """A key id or session id that exists elsewhere, with the wrong secret, and a revoked
    or expired one answer exactly as one that never existed."""
    other_key = world.key(OTHER)
    key_id = other_key.split("_")[1]
    forged_keys = {
        "other tenant's key id": f"st_{key_id}_{'x' * 43}",
        "revoked": world.keys_by_credential["revoked"],
        "expired": world.keys_by_credential["expired"],
    }
    never = f"st_{unlike(key_id)}_{'x' * 43}"
    session = world.ids["session-globex"]
    cookie_parts = world.cookies["owner"].split(".")
    other_cookie = ".".join([cookie_parts[0], "Z2xvYmV4", session, cookie_parts[3]])
    no_cookie = ".".join([cookie_parts[0], "Z2xvYmV4", unlike(session), cookie_parts[3]])

    def get(path: str, headers: dict[str, str]) -> tuple[int, str]:
        response = world.client.get(path, headers=headers)
        world.client.cookies.clear()
        return response.status_code, response.text

    baseline = get("/v1/events", {"Authorization": f"Bearer {never}"})
    assert baseline[0] == 401
    for what, key in forged_keys.items():
        assert get("/v1/events", {"Authorization": f"Bearer {key}"}) == baseline, what
    for path in ("/v1/events", "/ui"):
        assert get(path, {"Cookie": f"sealtrail_viewer={other_cookie}"}) == get(
            path, {"Cookie": f"sealtrail_viewer={no_cookie}"}
        ), path


def test_ids_inside_queries_and_bodies_tell_nothing(world: World) -> None:
    """Ids a request carries in its query or body rather than its path: the other
    tenant's answer exactly like ones that never existed."""
    alert, rule = world.ids["alert-globex"], world.ids["rule-globex"]
    subject = f"{TENANT_MARK}0@example.com"  # a failed login of the other tenant's
    pairs: list[tuple[str, str, str, str, Callable[[str], dict[str, Any]]]] = [
        ("GET", "/v1/alerts", alert, ALERT.missing, lambda i: {"params": {"before": i}}),
        (
            "POST",
            "/v1/detection-tests",
            rule,
            RULE.missing,
            lambda i: {"json": {"rule": i, "since": "1d"}},
        ),
        (
            "POST",
            "/v1/erasures",
            subject,
            "nobody-at-all@example.com",
            lambda i: {"json": {"subject": {"email": i}, "reason": "r", "dry_run": True}},
        ),
    ]
    for method, path, other_id, missing_id, send in pairs:
        answers = []
        for ident in (other_id, missing_id):
            response = world.client.request(
                method, path, headers=world.headers("all"), **send(ident)
            )
            world.client.cookies.clear()
            answers.append(Answer(response.status_code, "", response.text))
        assert not leaks(answers[0], "all"), path
        assert same_as_missing(answers[0], other_id, answers[1], missing_id), (path, answers)
    # The viewer opens a saved view by id in its query: another tenant's opens nothing.
    page = world.client.get(
        "/ui", params={"saved": world.ids["search-globex"]}, headers=world.headers("owner")
    )
    world.client.cookies.clear()
    assert page.status_code == 200 and not leaks(Answer(200, "", page.text), "owner")


def test_an_account_admin_counts_only_its_accounts(world: World) -> None:
    """Counts are data too: totals, histograms and the compatible endpoint's ``total``
    of an account admin count only the events of its accounts."""

    def get(credential: str, path: str, **params: str) -> Any:
        response = world.client.get(path, params=params, headers=world.headers(credential))
        world.client.cookies.clear()
        assert response.status_code == 200, (path, response.text)
        return response.json()

    own = len(get("owner", "/v1/events", account_id="acc_x", limit="200")["events"])
    assert own >= 2  # ev-own and the failed logins
    seen = get("acct", "/v1/events", limit="200")
    assert len(seen["events"]) == own and seen["total"] in (own, None)
    assert get("acct", "/v1/events", account_id="acc_y")["events"] == []
    buckets = get("acct", "/v1/events/histogram", since="2000-01-01")["buckets"]
    assert sum(b["count"] for b in buckets) == own
    assert get("acct", "/api/organization/rbac/members/audit-log")["total"] == own
    # An alert is listed to it when every event it counted is one it sees.
    alerts = get("acct", "/v1/alerts")["alerts"]
    listed = {a["id"] for a in alerts}
    assert world.ids["alert-acme"] in listed and world.ids["alert-accy"] not in listed
    visible = {e["id"] for e in seen["events"]}
    assert all(set(a["event_ids"]) <= visible for a in alerts)


@pytest.mark.parametrize("credential", ["read", "owner", "acct"])
def test_every_export_format_holds_only_what_the_caller_sees(world: World, credential: str) -> None:
    for fmt in ("csv", "ndjson", "bundle"):
        response = world.client.get(
            "/v1/events/export", params={"format": fmt}, headers=world.headers(credential)
        )
        world.client.cookies.clear()
        assert response.status_code == 200, response.text
        answer = Answer(200, "", response.text)
        assert not leaks(answer, credential), fmt
        if credential == "owner":  # the control: the account's events are there
            assert any(s in response.text for s in ACCOUNT_SPELLINGS), fmt


def backlog(world: World, path: str, credential: str) -> str:
    """What a live tail sends from the start of the log until it has caught up: every
    message until an event recorded after it opened (one the caller may see) arrives."""
    sentinel = world.fresh_name("sentinel")
    headers = {**world.headers(credential), "Last-Event-ID": "-1"}
    seen: list[str] = []
    deadline = time.monotonic() + 60
    with world.client.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200
        world.api(
            "POST",
            "/v1/events",
            json={
                "id": sentinel,
                "action": "member.invited",
                "account_id": "acc_x",
                "actor": {"type": "user", "id": "u_sentinel"},
            },
        )
        for line in response.iter_lines():
            seen.append(line)
            if sentinel in line:
                break
            assert time.monotonic() < deadline, f"{sentinel} never came on {path}"
    world.client.cookies.clear()
    return "\n".join(seen)


@pytest.mark.parametrize("path", ["/v1/events/stream", "/ui/live"])
def test_the_live_tails_send_only_what_the_caller_sees(world: World, path: str) -> None:
    shown = backlog(world, path, "owner")
    assert ACCOUNT_MARK in shown and "ev-own" in shown  # the control
    for credential in ("read", "acct"):
        if credential == "read" and path == "/ui/live":
            continue  # the viewer's feed takes no key (the matrix: 401)
        sent = backlog(world, path, credential)
        assert not leaks(Answer(200, "", sent), credential), (path, credential)
        assert "ev-own" in sent  # what it may see, it is sent


def test_nothing_a_request_sends_picks_another_tenant(world: World) -> None:
    """The tenant comes from the credential only: a parameter, phrase or header naming
    another tenant is refused or ignored, never obeyed."""
    for params, headers in (
        ({"tenant_id": OTHER}, {}),
        ({"tenant": OTHER}, {}),
        ({"phrase": f"tenant_id:{OTHER}"}, {}),
        ({"q": TENANT_MARK}, {}),
        ({}, {"X-Tenant-Id": OTHER, "X-Sealtrail-Tenant": OTHER}),
    ):
        response = world.client.get(
            "/v1/events", params=params, headers={**world.headers("all"), **headers}
        )
        world.client.cookies.clear()
        assert response.status_code in (200, 400, 422), response.text
        assert not leaks(Answer(response.status_code, "", response.text), "all"), params
        if response.status_code == 200:
            assert all(e["tenant_id"] == OWN for e in response.json()["events"])


def test_a_private_saved_search_is_listed_to_its_user_only(world: World) -> None:
    private = world.ids["search-private"]

    def listed(credential: str) -> set[str]:
        response = world.client.get("/v1/saved-searches", headers=world.headers(credential))
        world.client.cookies.clear()
        assert response.status_code == 200, response.text
        return {s["id"] for s in response.json()["saved_searches"]}

    assert private in listed("owner")
    for credential in ("read", "all", "admin"):
        assert private not in listed(credential), credential
