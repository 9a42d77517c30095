"""``seed_demo``: a believable, complete, deterministic history, written once."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.catalog import Catalog
from sealtrail.demo import KEY_RECORDS, SCOPES, DemoInfo, generate, seed_demo
from sealtrail.demo.cast import ROLES, TENANT_ID
from sealtrail.errors import AuthenticationFailed
from sealtrail.events import Event, now_micros, validate_event
from sealtrail.query import EventQuery
from sealtrail.query.phrase import parse_phrase
from sealtrail.settings import Settings

COUNT = 3000
DAY = 86_400_000_000
UNUSUAL = (ipaddress.ip_network("192.0.2.0/24"), ipaddress.ip_network("2001:db8:ffff::/48"))


@dataclass(frozen=True)
class Seeded:
    log: AuditLog
    settings: Settings
    info: DemoInfo
    now: int
    events: list[Event]


def _open(tmp: Path) -> tuple[AuditLog, Settings]:
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'demo.db'}", signing_key_file=str(tmp / "signing.key")
    )
    log = AuditLog.open(settings=settings)
    log.migrate()
    return log, settings


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    log, settings = _open(tmp_path_factory.mktemp("demo"))
    now = now_micros()
    info = seed_demo(log, settings, events=COUNT, now=now)
    events = [  # the history: the log holds the record of the demo key's creation too
        event
        for chunk in log.stream(Principal.operator(TENANT_ID), EventQuery(order="asc"))
        for event in chunk
        if not (event.action.startswith("audit_log.api_key_") and event.actor.id == "operator")
    ]
    yield Seeded(log, settings, info, now, events)
    log.close()


def test_writes_the_requested_number_of_events_gap_free_and_in_time_order(
    seeded: Seeded,
) -> None:
    events = seeded.events
    assert seeded.info.seeded
    assert seeded.info.events == len(events) == COUNT
    assert [e.seq for e in events] == list(range(COUNT))
    times = [e.occurred_at for e in events]
    assert times == sorted(times)
    assert seeded.now - 91 * DAY < times[0] < seeded.now - 85 * DAY
    assert times[-2] < seeded.now <= times[-1]  # the history, then the erasure made now


def test_every_built_in_type_appears(seeded: Seeded) -> None:
    # audit_log.events_pruned is recorded only by a real prune, which a fresh demo has none of.
    builtin = {t.name for t in Catalog.builtin().types()} - {"audit_log.events_pruned"}
    assert builtin <= {e.action for e in seeded.events}


def test_every_event_would_pass_validation_at_the_api(seeded: Seeded) -> None:
    for event in seeded.events:
        if event.commitments:  # erased: its values are gone, it cannot be sent again
            continue
        checked, errors = validate_event(event.to_dict())
        assert errors == [], (event.action, errors)
        assert checked is not None


def test_sign_ins_are_the_most_common_and_some_fail_in_bursts_from_unusual_addresses(
    seeded: Seeded,
) -> None:
    events = [e for e in seeded.events if not e.commitments]  # the erased member's are blank
    logins = [e for e in events if e.action in ("auth.login", "user.login", "auth.sso_login")]
    assert len(logins) > len(events) / 10
    failed = [e for e in events if e.action == "auth.login" and e.outcome == "failure"]
    unusual = [e for e in failed if e.ip and any(ipaddress.ip_address(e.ip) in n for n in UNUSUAL)]
    assert unusual
    assert len(failed) > len(unusual)  # people mistype their passwords too
    assert all(e.description and e.description.startswith("Failed sign-in") for e in failed)
    bursts = {
        e.ip
        for e in unusual
        if sum(1 for o in unusual if o.ip == e.ip and abs(o.occurred_at - e.occurred_at) < 600e6)
        >= 10
    }
    assert bursts


def test_both_accounts_and_the_organisation_itself_have_events(seeded: Seeded) -> None:
    accounts = {e.account_id for e in seeded.events}
    assert accounts == {None, *seeded.info.account_ids}


def test_role_changes_name_the_previous_and_new_role_and_later_events_agree(
    seeded: Seeded,
) -> None:
    events = seeded.events
    changes = [e for e in events if e.action == "member.role_changed"]
    assert changes
    for change in changes:
        assert change.context is not None and change.target is not None
        previous, new = change.context["previous_role"], change.context["new_role"]
        assert previous in ROLES and new in ROLES and previous != new
        assert change.actor.role in ("owner", "admin")
        later = [e for e in events[change.seq + 1 :] if e.actor.id == change.target.id]
        if later and later[0].action != "member.role_changed":
            assert later[0].actor.role == new


def test_invited_people_accept_and_then_work(seeded: Seeded) -> None:
    events = seeded.events
    invited = {e.target.id for e in events if e.action == "member.invited" and e.target}
    accepted = {e.actor.id for e in events if e.action == "member.invite_accepted"}
    assert invited & accepted


def test_publishes_and_rollbacks_carry_versions(seeded: Seeded) -> None:
    for event in seeded.events:
        if event.action == "app.published":
            assert event.context is not None
            assert event.context["version"] > event.context["previous_version"] >= 1
        if event.action == "app.rolled_back":
            assert event.context is not None
            assert event.context["new_version"] < event.context["previous_version"]


def test_the_history_is_the_seeds_own(seeded: Seeded) -> None:
    again = list(generate(seed=7, now=seeded.now, count=COUNT - 1))
    assert [(e.action, e.actor.id, e.occurred_at) for e in again] == [
        (e.action, e.actor.id, e.occurred_at) for e in seeded.events[:-1]
    ]


def test_a_member_who_left_is_really_erased(seeded: Seeded) -> None:
    """The demo's audit_log.subject_erased is true: the member's personal fields are gone."""
    erasure = seeded.events[-1]
    assert erasure.action == "audit_log.subject_erased" and erasure.target is not None
    gone = erasure.target.id
    theirs = [e for e in seeded.events if e.actor.id == gone]
    assert theirs and all(e.actor.name == e.actor.email == "[erased]" for e in theirs)
    assert all("actor.email" in e.commitments for e in theirs)
    assert seeded.log.verify_database(seeded.log.verifier_key).ok


def test_the_same_seed_gives_the_same_history_and_another_seed_another() -> None:
    now = 1_767_225_600_000_000  # 2026-01-01
    first = list(generate(seed=11, now=now, count=1500))
    assert first == list(generate(seed=11, now=now, count=1500))
    assert [e.action for e in first] != [e.action for e in generate(seed=12, now=now, count=1500)]


def test_seeding_again_keeps_the_history_and_mints_a_new_key(seeded: Seeded) -> None:
    again = seed_demo(seeded.log, seeded.settings, events=COUNT)
    assert not again.seeded
    assert again.events == COUNT
    keys = seeded.log.count(Principal.operator(TENANT_ID), parse_phrase(KEY_RECORDS))
    assert seeded.log.tree_size(TENANT_ID) == COUNT + (keys or 0)  # and its keys' records
    assert again.api_key != seeded.info.api_key
    principal = seeded.log.authenticate_api_key(again.api_key)
    assert principal.tenant_id == TENANT_ID
    assert principal.scopes == frozenset(SCOPES.split(","))
    assert again.owner == seeded.info.owner


def test_seeding_again_revokes_the_key_printed_before_and_says_so(seeded: Seeded) -> None:
    first = seed_demo(seeded.log, seeded.settings, events=COUNT)
    again = seed_demo(seeded.log, seeded.settings, events=COUNT)
    with pytest.raises(AuthenticationFailed):
        seeded.log.authenticate_api_key(first.api_key)
    assert seeded.log.authenticate_api_key(again.api_key).tenant_id == TENANT_ID
    live = [k for k in seeded.log.api_keys(TENANT_ID) if k.revoked_at is None]
    assert [k.id for k in live] == [again.api_key_id]
    assert again.revoked_keys == 1
    assert "the demo key printed before is revoked" in again.banner()
    assert "revoked" not in replace(again, revoked_keys=0).banner()


def test_the_banner_shows_the_key_and_how_to_query(seeded: Seeded) -> None:
    info = seeded.info
    text = info.banner("http://127.0.0.1:8000")
    assert info.api_key in text
    assert "http://127.0.0.1:8000/v1/events " in text
    assert "http://127.0.0.1:8000/v1/events/export " in text
    assert "http://127.0.0.1:8000/v1/checkpoint " in text
    assert "/v1/viewer-sessions" in text
    assert "Open the audit log" not in text
    for phrase in re.findall(r"phrase=([^']+)'", text):
        parse_phrase(phrase)
    with_viewer = replace(info, viewer_url="http://127.0.0.1:8000/ui?session=abc")
    first = with_viewer.banner().splitlines()[0]
    assert first == "Open the audit log: http://127.0.0.1:8000/ui?session=abc"
    assert "/v1/viewer-sessions" not in with_viewer.banner()


def test_no_progress_bar_off_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log, settings = _open(tmp_path)
    try:
        info = seed_demo(log, settings, events=0, progress=True)
    finally:
        log.close()
    assert info.events == 1000  # the floor: enough to tell the story and cover the catalog
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_the_default_twenty_thousand(tmp_path: Path) -> None:
    log, settings = _open(tmp_path)
    try:
        info = seed_demo(log, settings)
        assert info.events == 20_000
        assert log.tree_size(TENANT_ID) == 20_001  # and the record of the demo key's creation
    finally:
        log.close()
