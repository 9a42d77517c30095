"""RecentViews: a repeated look within the window is recorded once; the memory is bounded."""

from __future__ import annotations

from sealtrail.access import RecentViews

SECOND = 1_000_000


def test_a_repeat_within_the_window_is_not_recorded_again() -> None:
    views = RecentViews(window=600)
    assert views.first_in_window("a", 0)
    assert not views.first_in_window("a", 599 * SECOND)
    assert views.first_in_window("b", 599 * SECOND)
    assert views.first_in_window("a", 600 * SECOND)
    assert not views.first_in_window("a", 601 * SECOND)


def test_forgetting_lets_the_next_look_be_recorded() -> None:
    views = RecentViews(window=600)
    assert views.first_in_window("a", 0)
    views.forget("a")
    assert views.first_in_window("a", 1)


def test_the_oldest_are_forgotten_past_the_capacity() -> None:
    views = RecentViews(window=600, capacity=2)
    for key in ("a", "b", "c"):
        assert views.first_in_window(key, 0)
    assert views.first_in_window("a", 1)  # forgotten: recorded again
    assert not views.first_in_window("c", 1)
