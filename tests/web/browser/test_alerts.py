"""The open-alerts panel in Chromium: shown above the results, its rows marked, and its
link opening the search that shows the alert's events (strict CSP: no console error)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from sealtrail.audit_log import AuditLog

from .conftest import Server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _evaluate(server: Server, tenant: str) -> None:
    """What a server with detections on does in the background, here in the test."""
    log = AuditLog.open(settings=server.settings)
    try:
        for tenant_id, name, consumer in log.detection_consumers():
            if tenant_id != tenant:
                continue
            follower = log.follower(tenant_id, name, consumer, owner="browser-test")
            while follower.step().result != "idle":
                pass
    finally:
        log.close()


def test_open_alerts_are_shown_marked_and_linked(page: Any, server: Server) -> None:
    spray = [
        {
            "id": f"spray_{i}",
            "action": "auth.login",
            "outcome": "failure",
            "ip": "203.0.113.9",
            "actor": {"type": "user", "id": f"usr_{i}", "email": f"victim{i}@alerts.example"},
        }
        for i in range(10)
    ]
    quiet = {"id": "quiet", "action": "auth.login", "actor": {"type": "user", "id": "usr_ok"}}
    server.record([*spray, quiet], tenant="alerts")
    _evaluate(server, "alerts")
    page.goto(server.session_url("owner", tenant="alerts"))
    panel = page.locator("#alerts")
    expect(panel).to_contain_text("Failed sign-ins from one IP address (ip 203.0.113.9)")
    expect(panel.locator(".severity")).to_have_text("high")
    expect(page.locator("tr.event.alerted")).to_have_count(10)
    expect(page.locator('tr.event[data-event-id="quiet"]')).not_to_have_class(re.compile("alerted"))
    panel.get_by_role("link", name="Show the events").click()
    expect(page.locator("#f-phrase")).to_have_value(re.compile(r"^ip:203\.0\.113\.9 created:>="))
    expect(page.locator("tr.event.alerted")).to_have_count(10)
    expect(page.locator('tr.event[data-event-id="quiet"]')).to_have_count(0)


def test_an_owner_acknowledges_and_resolves_an_alert_an_account_admin_only_sees(
    page: Any, server: Server
) -> None:
    tenant = "alerts-ack"
    deletions = [
        {
            "id": f"del_{i}",
            "action": "app.deleted",
            "account_id": "acc_1",
            "actor": {"type": "user", "id": "usr_ann", "email": "ann@alerts.example"},
        }
        for i in range(20)
    ]
    server.record(deletions, tenant=tenant)
    _evaluate(server, tenant)

    # An account admin of acc_1 sees it, marked on its rows, and cannot change it.
    page.goto(server.session_url("account_admin", tenant=tenant, account_ids=["acc_1"]))
    panel = page.locator("#alerts")
    expect(panel).to_contain_text("ann@alerts.example")
    expect(page.locator("tr.event.alerted")).to_have_count(20)
    expect(panel.get_by_role("button")).to_have_count(0)

    page.context.clear_cookies()  # another person's browser, as it were
    page.goto(server.session_url("owner", tenant=tenant))
    panel = page.locator("#alerts")
    expect(panel).to_contain_text("ann@alerts.example")
    panel.get_by_role("button", name=re.compile("^Acknowledge")).click()
    expect(page).to_have_url(re.compile(r"/ui$"))
    expect(panel.locator(".alert-status")).to_have_text("Acknowledged by owner@acmerobotics.com")
    expect(panel.get_by_role("button", name=re.compile("^Acknowledge"))).to_have_count(0)
    panel.get_by_role("button", name=re.compile("^Resolve")).click()
    expect(page.locator("#alerts")).to_have_count(0)
    expect(page.locator("tr.event.alerted")).to_have_count(20)  # its events stay marked

    recorded = server.client.get(
        f"{server.url}/v1/events",
        params={"phrase": "action:audit_log.alert_acknowledged action:audit_log.alert_resolved"},
        headers=server.headers(tenant),
    ).json()["events"]
    assert [(e["action"], e["actor"]["email"]) for e in recorded] == [
        ("audit_log.alert_resolved", "owner@acmerobotics.com"),
        ("audit_log.alert_acknowledged", "owner@acmerobotics.com"),
    ]
