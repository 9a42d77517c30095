"""The viewer's open-alerts panel and the marks on the rows an alert names."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from sealtrail.auth import Principal

from .conftest import Site


def spray(site: Site) -> list[str]:
    events: list[dict[str, Any]] = [
        {
            "id": f"spray_{i}",
            "action": "auth.login",
            "outcome": "failure",
            "ip": "203.0.113.7",
            "actor": {"type": "user", "id": f"usr_{i}", "email": f"victim{i}@acmerobotics.com"},
        }
        for i in range(10)
    ]
    events.append(
        {"id": "quiet", "action": "auth.login", "actor": {"type": "user", "id": "usr_ok"}}
    )
    site.record(events)
    for tenant_id, name, consumer in site.log.detection_consumers():
        follower = site.log.follower(tenant_id, name, consumer, owner="test")
        while follower.step().result != "idle":
            pass
    return [str(e["id"]) for e in events[:10]]


def test_the_page_shows_open_alerts_and_marks_their_rows(site: Site) -> None:
    alerted = spray(site)
    page = site.browser("owner").get("/ui").text
    panel = re.search(r'<section class="alerts".*?</section>', page, re.S)
    assert panel is not None
    text = unescape(panel.group())
    assert "Failed sign-ins from one IP address (ip 203.0.113.7): 10 events" in text
    link = re.search(r'<a class="alert-context" href="([^"]+)"', panel.group())
    assert link is not None
    marked = set(re.findall(r'<tr class="event alerted"[^>]*data-event-id="([^"]+)"', page))
    assert marked == set(alerted)
    assert 'data-event-id="quiet"' in page
    # The link shows the alert's events in context, whatever the default window.
    context = site.browser("owner").get(unescape(link.group(1))).text
    shown = set(re.findall(r'<tr class="event[^"]*"[^>]*data-event-id="([^"]+)"', context))
    assert shown >= set(alerted)
    assert "quiet" not in shown


def test_a_viewer_limited_to_accounts_sees_no_alert_of_events_outside_them(site: Site) -> None:
    spray(site)  # sign-ins belong to no account
    page = site.browser("account_admin", account_ids=["acc_hq"]).get("/ui").text
    assert 'class="alerts"' not in page and "alerted" not in page


def deletions(site: Site, who: str, accounts: list[str]) -> list[str]:
    """A mass deletion (20 within 10 minutes) by ``who``, the i-th in ``accounts[i]``."""
    events: list[dict[str, Any]] = [
        {
            "id": f"{who}_{i}",
            "action": "app.deleted",
            "account_id": account,
            "actor": {"type": "user", "id": f"usr_{who}", "email": f"{who}@acmerobotics.com"},
        }
        for i, account in enumerate(accounts)
    ]
    site.record(events)
    evaluate(site)
    return [str(e["id"]) for e in events]


def evaluate(site: Site) -> None:
    for tenant_id, name, consumer in site.log.detection_consumers():
        follower = site.log.follower(tenant_id, name, consumer, owner="test")
        while follower.step().result != "idle":
            pass


def panel_of(page: str) -> str:
    found = re.search(r'<section class="alerts".*?</section>', page, re.S)
    return "" if found is None else unescape(found.group())


def test_an_account_admin_sees_its_accounts_alerts_read_only(site: Site) -> None:
    mine = deletions(site, "ann", ["acc_hq"] * 20)
    mixed = deletions(site, "bob", ["acc_hq"] * 19 + ["acc_lab"])
    viewer = site.browser("account_admin", account_ids=["acc_hq"])
    page = viewer.get("/ui").text
    panel = panel_of(page)
    assert "ann@acmerobotics.com" in panel and "bob@acmerobotics.com" not in panel
    assert "<form" not in panel  # read-only: no acknowledge or resolve
    marked = set(re.findall(r'<tr class="event alerted"[^>]*data-event-id="([^"]+)"', page))
    assert marked == set(mine)
    assert set(mixed[:19]) & set(re.findall(r'data-event-id="([^"]+)"', page))  # shown, unmarked
    # The API answers its session the same way, and nothing of bob's alert leaks.
    listed = viewer.get("/v1/alerts", headers={"Sec-Fetch-Site": "same-origin"})
    assert listed.status_code == 200, listed.text
    [alert] = listed.json()["alerts"]
    assert alert["event_ids"] == mine
    assert "bob" not in listed.text
    refused = viewer.post(
        f"/ui/alerts/{alert['id']}/acknowledge",
        data={"back": ""},
        headers={"Sec-Fetch-Site": "same-origin"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert site.log.alert(OWNER, alert["id"]).status == "open"


OWNER = Principal.operator("acme")


def test_an_owner_acknowledges_then_resolves_from_the_panel(site: Site) -> None:
    deletions(site, "ann", ["acc_hq"] * 20)
    owner = site.browser("owner")
    page = owner.get("/ui?actor=ann%40acmerobotics.com").text
    [alert_id] = re.findall(r'<li class="alert" data-alert-id="([^"]+)"', page)
    forms = re.findall(r'<form method="post" action="([^"]+)"', panel_of(page))
    assert forms == [f"/ui/alerts/{alert_id}/acknowledge", f"/ui/alerts/{alert_id}/resolve"]
    back = re.search(r'name="back" value="([^"]*)"', panel_of(page))
    assert back is not None and back.group(1) == "actor=ann%40acmerobotics.com"

    done = owner.post(
        f"/ui/alerts/{alert_id}/acknowledge", data={"back": back.group(1)}, follow_redirects=False
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/ui?actor=ann%40acmerobotics.com"
    assert site.log.alert(OWNER, alert_id).status == "acknowledged"
    panel = panel_of(owner.get("/ui").text)
    assert "Acknowledged by owner@acmerobotics.com" in panel
    assert f"/ui/alerts/{alert_id}/acknowledge" not in panel
    assert f"/ui/alerts/{alert_id}/resolve" in panel

    assert owner.post(f"/ui/alerts/{alert_id}/resolve", follow_redirects=False).status_code == 303
    assert site.log.alert(OWNER, alert_id).status == "resolved"
    assert 'class="alerts"' not in owner.get("/ui").text
    phrase = f"resource:alert/{alert_id}"
    found = site.api().get("/v1/events", params={"phrase": phrase}).json()["events"]
    recorded = [(e["action"], e["actor"].get("email")) for e in found]
    assert recorded == [
        ("audit_log.alert_resolved", "owner@acmerobotics.com"),
        ("audit_log.alert_acknowledged", "owner@acmerobotics.com"),
        ("audit_log.alert_opened", None),
    ]


def test_a_post_from_another_site_changes_nothing(site: Site) -> None:
    deletions(site, "ann", ["acc_hq"] * 20)
    owner = site.browser("owner")
    [alert_id] = re.findall(r'data-alert-id="([^"]+)"', owner.get("/ui").text)
    for site_header in ("cross-site", "same-site"):
        refused = owner.post(
            f"/ui/alerts/{alert_id}/acknowledge",
            data={"back": ""},
            headers={"Sec-Fetch-Site": site_header},
            follow_redirects=False,
        )
        assert refused.status_code == 403
    other_origin = owner.post(
        f"/ui/alerts/{alert_id}/resolve",
        data={"back": ""},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert other_origin.status_code == 403
    assert site.log.alert(OWNER, alert_id).status == "open"


def test_an_unknown_alert_says_so_with_a_way_back(site: Site) -> None:
    answer = site.browser("admin").post(
        "/ui/alerts/nope/resolve", data={"back": "q=x"}, follow_redirects=False
    )
    assert answer.status_code == 404
    assert "The alert was not resolved" in answer.text
    assert 'href="/ui?q=x"' in answer.text


def test_the_api_answers_a_viewers_cookie_by_the_same_rule(site: Site) -> None:
    deletions(site, "ann", ["acc_hq"] * 20)
    same_origin = {"Sec-Fetch-Site": "same-origin"}
    [alert] = site.api().get("/v1/alerts").json()["alerts"]
    account_admin = site.browser("account_admin", account_ids=["acc_hq"])
    path = f"/v1/alerts/{alert['id']}/acknowledge"
    assert account_admin.post(path, headers=same_origin).status_code == 403
    assert (
        site.browser("admin").post(path, headers={"Sec-Fetch-Site": "cross-site"}).status_code
        == 403
    )
    done = site.browser("admin").post(path, headers=same_origin)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["acknowledged_by"]) == (
        "acknowledged",
        "admin@acmerobotics.com",
    )
    # Rules stay with the detections:manage scope.
    assert site.browser("admin").get("/v1/detections", headers=same_origin).status_code == 403
