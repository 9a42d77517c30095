"""Backoff: exponential, jittered, capped, and never shorter than a Retry-After."""

from __future__ import annotations

import pytest

from sealtrail.follower import Backoff


@pytest.mark.parametrize(
    ("attempt", "expected"), [(1, 1.0), (2, 2.0), (3, 4.0), (9, 256.0), (10, 300.0), (500, 300.0)]
)
def test_delays_double_up_to_the_cap(attempt: int, expected: float) -> None:
    assert Backoff().delay(attempt, rng=lambda: 0.0) == expected


def test_jitter_takes_off_at_most_its_share() -> None:
    backoff = Backoff(base=10.0, jitter=0.5)
    assert backoff.delay(1, rng=lambda: 0.0) == 10.0
    assert backoff.delay(1, rng=lambda: 0.999999) == pytest.approx(5.0, abs=1e-4)
    assert Backoff(base=10.0, jitter=0.0).delay(1, rng=lambda: 0.7) == 10.0


def test_a_longer_retry_after_wins_up_to_its_limit() -> None:
    backoff = Backoff(base=1.0, max_retry_after=120.0)
    assert backoff.delay(1, 30.0, rng=lambda: 0.0) == 30.0
    assert backoff.delay(1, 0.2, rng=lambda: 0.0) == 1.0
    assert backoff.delay(1, 86_400.0, rng=lambda: 0.0) == 120.0
