"""Every view, search and export through the page is itself recorded, once."""

from __future__ import annotations

from typing import Any

import pytest

from . import sample
from .conftest import Site


def _access_events(site: Site) -> list[dict[str, Any]]:
    response = site.api().get("/v1/events", params={"action": "audit_log.*", "limit": "200"})
    events: list[dict[str, Any]] = response.json()["events"]
    return list(reversed(events))


def test_a_page_view_is_recorded_once_with_the_viewer_as_actor(seeded: Site) -> None:
    client = seeded.browser("admin")
    client.get("/ui", params={"action": "member.invited"})
    recorded = _access_events(seeded)
    assert [e["action"] for e in recorded] == ["audit_log.viewed"]
    viewed = recorded[0]
    assert viewed["actor"] == {
        "type": "user",
        "id": "usr_admin",
        "role": "admin",
        "name": "Admin",
        "email": "admin@acmerobotics.com",
    }
    assert "action:member.invited" in viewed["context"]["phrase"]
    assert viewed["context"]["results"] == 1


def test_an_export_is_recorded_once(seeded: Site) -> None:
    client = seeded.browser("owner")
    response = client.get("/ui/export", params={"since": "", "kind": "delete"})
    assert response.status_code == 200
    recorded = _access_events(seeded)
    assert [e["action"] for e in recorded] == ["audit_log.exported"]
    assert recorded[0]["actor"]["id"] == "usr_owner"
    assert recorded[0]["context"]["format"] == "csv"
    assert "kind:delete" in recorded[0]["context"]["phrase"]


def test_checking_a_rows_proof_records_nothing_more(seeded: Site) -> None:
    seeded.browser("owner").get("/ui/verify/evt_role_change")
    assert _access_events(seeded) == []


def test_opening_one_event_is_recorded(seeded: Site) -> None:
    client = seeded.browser("owner")
    client.get("/ui/events/evt_role_change")
    recorded = _access_events(seeded)
    assert [e["action"] for e in recorded] == ["audit_log.viewed"]
    assert recorded[0]["context"]["event_id"] == "evt_role_change"


def test_the_viewers_own_views_are_in_the_trail_behind_a_visible_toggle(seeded: Site) -> None:
    client = seeded.browser("owner")
    client.get("/ui")
    [view] = [e["id"] for e in _access_events(seeded)]
    hidden = client.get("/ui", params={"since": "", "kind": "access"})
    assert f'data-event-id="{view}"' not in hidden.text
    assert "Show audit-log access" in hidden.text
    shown = client.get("/ui", params={"since": "", "kind": "access", "access": "shown"})
    assert f'data-event-id="{view}"' in shown.text
    assert "Hide audit-log access" in shown.text
    named = client.get("/ui", params={"since": "", "action": "audit_log.viewed"})
    assert f'data-event-id="{view}"' in named.text


def test_reloading_or_paging_the_same_filters_is_recorded_once(seeded: Site) -> None:
    client = seeded.browser("admin")
    for _ in range(3):
        client.get("/ui", params={"action": "member.invited"})
    client.get("/ui", params={"action": "member.invited", "limit": "1"})
    client.get("/ui", params={"kind": "delete"})
    client.get("/ui/events/evt_role_change")
    client.get("/ui/events/evt_role_change")
    recorded = _access_events(seeded)
    assert [e["action"] for e in recorded] == ["audit_log.viewed"] * 3
    assert "action:member.invited" in recorded[0]["context"]["phrase"]
    assert "kind:delete" in recorded[1]["context"]["phrase"]
    assert recorded[2]["context"]["event_id"] == "evt_role_change"


def test_another_session_of_the_same_filters_is_recorded_again(seeded: Site) -> None:
    seeded.browser("admin").get("/ui", params={"action": "member.invited"})
    seeded.browser("owner").get("/ui", params={"action": "member.invited"})
    recorded = _access_events(seeded)
    assert [e["actor"]["id"] for e in recorded] == ["usr_admin", "usr_owner"]


def test_a_refused_member_records_nothing(seeded: Site) -> None:
    client = seeded.browser("member")
    client.get("/ui")
    client.get("/ui/export")
    client.get("/v1/events")
    assert _access_events(seeded) == []


def test_the_json_api_records_a_viewers_look_at_one_event(seeded: Site) -> None:
    """The rule lives in AuditLog, so the API with the viewer's cookie records it like the page."""
    client = seeded.browser("admin")
    response = client.get(f"/v1/events/{sample.ROLE_CHANGE_ID}")
    assert response.status_code == 200
    recorded = _access_events(seeded)
    assert [e["action"] for e in recorded] == ["audit_log.viewed"]
    assert recorded[0]["actor"]["id"] == "usr_admin"
    assert recorded[0]["context"] == {"event_id": sample.ROLE_CHANGE_ID, "results": 1}


def test_an_api_keys_look_at_one_event_is_not_a_viewers_view(seeded: Site) -> None:
    response = seeded.api().get(f"/v1/events/{sample.ROLE_CHANGE_ID}")
    assert response.status_code == 200
    assert _access_events(seeded) == []


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        ({}, {"after_seq": "99999999999999999999"}),
        ({}, {"after_seq": "-2"}),
        ({"Last-Event-ID": "abc"}, {}),
    ],
)
def test_the_live_feed_refuses_a_resume_point_the_api_refuses(
    seeded: Site, headers: dict[str, str], params: dict[str, str]
) -> None:
    """One rule for where a tail resumes (server.tail.resume_point), page and API alike."""
    response = seeded.browser("owner").get("/ui/live", params=params, headers=headers)
    assert response.status_code == 400
    assert "cannot be followed live" in response.text
