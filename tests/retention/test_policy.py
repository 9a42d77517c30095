"""Retention policies and legal holds: the pure rules."""

from __future__ import annotations

import pytest

from sealtrail.errors import InvalidInput
from sealtrail.retention import (
    DAY_US,
    Hold,
    RetentionPolicy,
    Row,
    Rule,
    check_hold,
    first_kept,
    must_keep,
)

NOW = 1_800_000_000_000_000


def _row(
    seq: int, days_ago: int, action: str = "member.invited", account: str | None = None
) -> Row:
    return Row(seq, action, NOW - days_ago * DAY_US, account)


def test_the_default_keeps_forever() -> None:
    policy = RetentionPolicy()
    assert policy.keeps_forever
    assert must_keep(_row(0, 10_000), policy, [], NOW) == "member.invited is kept forever"


def test_the_longest_matching_prefix_decides() -> None:
    policy = RetentionPolicy(365, (Rule("auth.", 30), Rule("auth.login", 400)))
    assert policy.days_for("auth.logout") == 30
    assert policy.days_for("auth.login") == 400
    assert policy.days_for("member.invited") == 365
    assert RetentionPolicy(None, (Rule("auth.", 30),)).days_for("member.invited") is None


def test_an_event_goes_once_its_days_have_passed() -> None:
    policy = RetentionPolicy(30)
    assert must_keep(_row(0, 31), policy, [], NOW) is None
    assert "kept until" in (must_keep(_row(0, 29), policy, [], NOW) or "")


def test_the_first_event_that_must_stay_ends_the_prefix() -> None:
    """A retained event older than the cut stops it there: pruning removes a prefix."""
    policy = RetentionPolicy(30, (Rule("auth.", 400),))
    rows = [_row(0, 100), _row(1, 90, "auth.login"), _row(2, 80), _row(3, 10)]
    kept = first_kept(rows, policy, [], NOW)
    assert kept is not None and kept.seq == 1 and "auth.login" in kept.why
    assert first_kept(rows[:1], policy, [], NOW) is None


def test_holds_cover_all_one_account_or_a_time_range() -> None:
    policy = RetentionPolicy(30)
    whole = Hold("h1", "acme", "case", "{}", NOW)
    account = Hold("h2", "acme", "case", "{}", NOW, account_id="acc_1")
    window = Hold("h3", "acme", "case", "{}", NOW, since=NOW - 95 * DAY_US, until=NOW - 85 * DAY_US)
    released = Hold("h4", "acme", "case", "{}", NOW, released_at=NOW)
    old = _row(0, 100, account="acc_2")
    assert "legal hold h1" in (must_keep(old, policy, [whole], NOW) or "")
    assert must_keep(old, policy, [account], NOW) is None
    assert must_keep(_row(0, 100, account="acc_1"), policy, [account], NOW) is not None
    assert must_keep(old, policy, [window], NOW) is None
    assert must_keep(_row(0, 90), policy, [window], NOW) is not None
    assert must_keep(old, policy, [released], NOW) is None


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"days": 0},
        {"days": True},
        {"days": 40_000},
        {"days": 30, "extra": 1},
        {"days": 30, "rules": [{"action_prefix": "Auth.", "days": 3}]},
        {"days": 30, "rules": [{"action_prefix": "auth.", "days": 3}] * 2},
        {"days": 30, "rules": [{"action_prefix": "auth."}]},
        {"days": 30, "rules": {"auth.": 3}},
    ],
)
def test_a_bad_policy_is_refused_by_name(body: object) -> None:
    with pytest.raises(InvalidInput):
        RetentionPolicy.from_body(body)


def test_a_policy_reads_from_its_body() -> None:
    body = {"days": 365, "rules": [{"action_prefix": "auth.", "days": 30}]}
    assert RetentionPolicy.from_body(body).to_dict() == body
    assert RetentionPolicy.from_body({"days": None}) == RetentionPolicy()


def test_a_hold_needs_a_reason_and_an_ordered_range() -> None:
    assert check_hold(" case 7 ", None, "2026-01-01", None)[0] == "case 7"
    with pytest.raises(InvalidInput):
        check_hold("", None, None, None)
    with pytest.raises(InvalidInput, match="until"):
        check_hold("case", None, "2026-02-01", "2026-01-01")
    with pytest.raises(InvalidInput, match="since"):
        check_hold("case", None, "yesterday", None)
