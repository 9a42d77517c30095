"""Account admins see only their accounts: table, counts, expanded rows, exports, API."""

from __future__ import annotations

import csv
import io
import re

from . import sample
from .conftest import Site
from .test_page import rows


def _ids_in(account: str) -> list[str]:
    return [e.get("id", "") for e in sample.events() if e.get("account_id") == account]


def test_the_table_and_count_show_only_the_admins_accounts(seeded: Site) -> None:
    client = seeded.browser("account_admin", account_ids=["acc_eu"])
    page = client.get("/ui", params={"since": ""})
    assert page.status_code == 200
    eu_actions = [e["action"] for e in sample.events() if e.get("account_id") == "acc_eu"]
    badges = re.findall(
        r'data-kind="\w+" title="[^"]*"><span class="sr-only">[^<]*</span>([^<]+)</span>',
        page.text.replace("<wbr>", ""),
    )
    assert sorted(badges) == sorted(eu_actions)
    assert f"<strong>{len(eu_actions)}</strong> events match" in page.text
    assert sample.ROLE_CHANGE_ID not in rows(page.text).ids  # an acc_hq event
    assert "You see the accounts you administer: <code>acc_eu</code>" in page.text
    assert "Account admin" in page.text


def test_counts_stay_scoped_under_every_filter(seeded: Site) -> None:
    client = seeded.browser("account_admin", account_ids=["acc_eu"])
    page = client.get("/ui", params={"since": "", "actor": "maya@acmerobotics.com"})
    maya_eu = [
        e for e in sample.events() if e.get("account_id") == "acc_eu" and e["actor"] is sample.MAYA
    ]
    noun = "event matches" if len(maya_eu) == 1 else "events match"
    assert f"<strong>{len(maya_eu)}</strong> {noun}" in page.text
    assert len(rows(page.text).ids) == len(maya_eu)


def test_events_of_other_accounts_cannot_be_opened(seeded: Site) -> None:
    client = seeded.browser("account_admin", account_ids=["acc_eu"])
    assert client.get(f"/ui/events/{sample.ROLE_CHANGE_ID}").status_code == 404  # acc_hq
    assert client.get(f"/v1/events/{sample.ROLE_CHANGE_ID}").status_code == 404
    listed = client.get("/v1/events", params={"limit": "200"}).json()["events"]
    assert {e.get("account_id") for e in listed} == {"acc_eu"}


def test_the_export_holds_only_the_admins_accounts(seeded: Site) -> None:
    client = seeded.browser("account_admin", account_ids=["acc_eu", "acc_nowhere"])
    page = client.get("/ui", params={"since": ""})
    found = re.search(r'href="(/ui/export[^"]+)"', page.text)
    assert found is not None
    exported = client.get(found.group(1).replace("&amp;", "&"))
    assert exported.status_code == 200
    records = list(csv.DictReader(io.StringIO(exported.text)))
    assert {r["account_id"] for r in records} == {"acc_eu"}
    assert len(records) == len(_ids_in("acc_eu"))


def test_owners_and_admins_see_every_account(seeded: Site) -> None:
    for role in ("owner", "admin"):
        page = seeded.browser(role).get(
            "/ui", params={"since": "", "phrase": "-category:audit_log"}
        )
        assert len(rows(page.text).ids) == len(sample.events()), role


def _seq_of(seeded: Site, event_id: str) -> int:
    response = seeded.api().get(f"/v1/events/{event_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    seq: int = body["proof"]["seq"]
    return seq


def test_an_account_admin_cannot_prove_another_accounts_event(seeded: Site) -> None:
    hq_seq = _seq_of(seeded, sample.ROLE_CHANGE_ID)  # an acc_hq event
    eu_events = seeded.api().get("/v1/events", params={"account_id": "acc_eu"}).json()["events"]
    eu_seq = _seq_of(seeded, eu_events[0]["id"])
    client = seeded.browser("account_admin", account_ids=["acc_eu"])
    refused = client.get("/v1/proofs/inclusion", params={"seq": str(hq_seq)})
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "not_found"
    missing = client.get("/v1/proofs/inclusion", params={"seq": "999999"})
    assert missing.status_code == 404  # exactly like a seq that does not exist
    allowed = client.get("/v1/proofs/inclusion", params={"seq": str(eu_seq)})
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["seq"] == eu_seq
    # The whole-tenant roles still prove any event.
    owner = seeded.browser("owner")
    assert owner.get("/v1/proofs/inclusion", params={"seq": str(hq_seq)}).status_code == 200


def test_a_member_reads_nothing_not_even_the_catalog(seeded: Site) -> None:
    """A member's session has no scope: every read through it is refused."""
    member = seeded.browser("member")
    for path in ("/v1/catalog", "/v1/events", "/v1/alerts", "/v1/retention", "/v1/checkpoint"):
        assert member.get(path).status_code == 403, path
    assert seeded.browser("owner").get("/v1/catalog").status_code == 200
