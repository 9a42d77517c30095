"""Before/after pairs found in a context, for the expanded row's diff."""

from __future__ import annotations

from typing import Any

import pytest

from sealtrail.web.changes import Change, find_changes


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"previous_role": "member", "new_role": "admin"}, [Change("role", "member", "admin")]),
        ({"old_plan": "Studio", "new_plan": "Pro"}, [Change("plan", "Studio", "Pro")]),
        ({"from_status": "draft", "to_status": "live"}, [Change("status", "draft", "live")]),
        ({"role_before": "a", "role_after": "b"}, [Change("role", "a", "b")]),
        ({"seats_old": 5, "seats_new": 10}, [Change("seats", "5", "10")]),
        ({"previous": "x", "new": "y"}, [Change("value", "x", "y")]),
        ({"old": 1, "new": None}, [Change("value", "1", "—")]),
        (
            {"before": {"a": 1, "b": 2, "c": 3}, "after": {"a": 1, "b": 5, "d": [1]}},
            [Change("b", "2", "5"), Change("c", "3", "—"), Change("d", "—", "[1]")],
        ),
        (
            {"changes": {"color": {"old": "#fff", "new": "#000"}, "name": ["A", "B"]}},
            [Change("color", "#fff", "#000"), Change("name", "A", "B")],
        ),
        ({"changes": {"x": {"unrelated": 1}}}, []),
        ({"previous_role": "member"}, []),
        ({"reason": "inactivity", "new": "only one side"}, []),
        ({}, []),
        (None, []),
    ],
)
def test_changes_are_found(context: dict[str, Any] | None, expected: list[Change]) -> None:
    assert find_changes(context) == expected


def test_objects_are_shown_as_compact_json_and_text_as_is() -> None:
    found = find_changes({"previous_scopes": ["a", "b"], "new_scopes": {"all": True}})
    assert found == [Change("scopes", '["a","b"]', '{"all":true}')]
