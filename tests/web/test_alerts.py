"""The viewer's open-alerts panel and the marks on the rows an alert names."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

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


def test_a_viewer_limited_to_accounts_sees_no_alerts(site: Site) -> None:
    spray(site)
    page = site.browser("account_admin", account_ids=["acc_hq"]).get("/ui").text
    assert 'class="alerts"' not in page and "alerted" not in page
