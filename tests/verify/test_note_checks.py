"""Extra checks on a bundle's checkpoint (where a witness policy plugs in)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sealtrail.auth import Principal
from sealtrail.ledger.checkpoint import Checkpoint
from sealtrail.query import parse_phrase
from sealtrail.verify import read_vkey, verify_bundle

from .conftest import Fixture


@dataclass
class Quorum:
    """A stand-in policy: passes when the note carries ``needed`` signature lines."""

    needed: int
    seen: list[tuple[str, int]] = field(default_factory=list)

    @property
    def description(self) -> str:
        return f"a quorum of {self.needed} signatures"

    def __call__(self, signed_note: str, checkpoint: Checkpoint) -> Sequence[str]:
        self.seen.append((checkpoint.origin, checkpoint.size))
        lines = signed_note.split("\n\n", 1)[1].splitlines()
        return [] if len(lines) >= self.needed else [f"{len(lines)} of {self.needed} signatures"]


def _lines(fixture: Fixture) -> list[bytes]:
    exported = fixture.log.export(Principal.operator("acme"), parse_phrase(""), "bundle")
    return b"".join(exported.chunks).splitlines()


def test_a_failing_check_fails_the_bundle_and_a_passing_one_is_stated(
    signed_log: Fixture,
) -> None:
    lines = _lines(signed_log)
    verifier = read_vkey(signed_log.vkey)
    strict = Quorum(2)
    report = verify_bundle(iter(lines), verifier, note_checks=[strict])
    assert [str(p) for p in report.problems] == [
        "acme: the checkpoint fails a quorum of 2 signatures: 1 of 2 signatures"
    ]
    assert strict.seen == [("sealtrail/acme", 401)]  # 400 events and the export itself
    lenient = Quorum(1)
    report = verify_bundle(iter(lines), verifier, note_checks=[lenient])
    assert report.ok
    assert any("passes a quorum of 1 signatures" in s.message for s in report.proven)
    assert not any("witness cosignatures" in s.message for s in report.not_proven)
