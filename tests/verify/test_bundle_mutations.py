"""The bundle mutation suite: each tampering is named by exactly its seqs, through the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from sealtrail.auth import Principal
from sealtrail.query import parse_phrase

from .conftest import Fixture, failed_seqs, run_cli

Lines = list[bytes]


def export(fixture: Fixture, phrase: str = "", tenant: str = "acme") -> Lines:
    exported = fixture.log.export(Principal.operator(tenant), parse_phrase(phrase), "bundle")
    return b"".join(exported.chunks).splitlines()


def index_of(lines: Lines, seq: int) -> int:
    for index, line in enumerate(lines[1:-1], start=1):
        if orjson.loads(line)["event"]["seq"] == seq:
            return index
    raise LookupError(seq)


def verify(fixture: Fixture, lines: Lines, *extra: str, key: str | None = None) -> tuple[int, str]:
    directory = Path(fixture.path).parent
    (directory / "trail.bundle").write_bytes(b"\n".join(lines) + b"\n")
    key_file = directory / "auditor.vkey"
    key_file.write_text(key if key is not None else fixture.vkey + "\n")
    result = run_cli("verify", "trail.bundle", "--key", str(key_file), *extra, cwd=directory)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, result.stdout


def edit_event(lines: Lines, seq: int, change: Callable[[dict[str, object]], None]) -> Lines:
    out = list(lines)
    index = index_of(out, seq)
    record = orjson.loads(out[index])
    change(record["event"])
    out[index] = orjson.dumps(record)
    return out


def edit_header(lines: Lines, **members: object) -> Lines:
    header = orjson.loads(lines[0])
    header.update(members)
    return [orjson.dumps(header), *lines[1:]]


def drop(lines: Lines, *seqs: int) -> Lines:
    gone = {index_of(lines, seq) for seq in seqs}
    return [line for index, line in enumerate(lines) if index not in gone]


def swap(lines: Lines, a: int, b: int) -> Lines:
    out = list(lines)
    i, j = index_of(out, a), index_of(out, b)
    out[i], out[j] = out[j], out[i]
    return out


def move_after(lines: Lines, seq: int, after: int) -> Lines:
    out = list(lines)
    line = out.pop(index_of(out, seq))
    out.insert(index_of(out, after) + 1, line)
    return out


def duplicate(lines: Lines, seq: int) -> Lines:
    out = list(lines)
    out.insert(index_of(out, seq) + 5, out[index_of(out, seq)])
    return out


def forged_copy(lines: Lines, seq: int) -> Lines:
    record = orjson.loads(lines[index_of(lines, seq)])
    record["event"]["actor"]["id"] = "mallory"
    return [*lines[:-1], orjson.dumps(record), lines[-1]]


def beyond(lines: Lines, seq: int) -> Lines:
    record = orjson.loads(lines[index_of(lines, 7)])
    record["event"]["seq"] = seq
    return [*lines[:-1], orjson.dumps(record), lines[-1]]


def _set(key: str, value: object) -> Callable[[dict[str, object]], None]:
    def change(event: dict[str, object]) -> None:
        event[key] = value

    return change


def _set_in(party: str, key: str, value: object) -> Callable[[dict[str, object]], None]:
    def change(event: dict[str, object]) -> None:
        inner = event[party]
        assert isinstance(inner, dict)
        inner[key] = value

    return change


CASES: dict[str, tuple[Callable[[Lines], Lines], list[set[int] | None]]] = {
    "one dropped event": (lambda ls: drop(ls, 300), [{300}]),
    "two dropped events apart": (lambda ls: drop(ls, 5, 250), [{5}, {250}]),
    "a dropped run": (lambda ls: drop(ls, 60, 61, 62), [{60, 61, 62}]),
    "two neighbours swapped": (lambda ls: swap(ls, 20, 21), [{20, 21}]),
    "two far lines swapped": (lambda ls: swap(ls, 20, 80), [{20}, {80}]),
    "one line moved far": (lambda ls: move_after(ls, 50, 300), [{50}]),
    "a changed description": (lambda ls: edit_event(ls, 10, _set("description", "x")), [{10}]),
    "a changed action": (lambda ls: edit_event(ls, 11, _set("action", "app.deleted")), [{11}]),
    "a changed seq": (lambda ls: edit_event(ls, 12, _set("seq", 13)), [{13}, {12}]),
    "an extra member": (lambda ls: edit_event(ls, 14, _set("approved_by", "ceo")), [{14}]),
    "an extra actor member": (lambda ls: edit_event(ls, 15, _set_in("actor", "x", "y")), [{15}]),
    "an unknown kind": (lambda ls: edit_event(ls, 16, _set("kind", "harmless")), [{16}]),
    "another tenant's id": (lambda ls: edit_event(ls, 17, _set("tenant_id", "globex")), [{17}]),
    "a duplicated line": (lambda ls: duplicate(ls, 40), [{40}]),
    "a forged second copy": (lambda ls: forged_copy(ls, 30), [{30}]),
    "an inserted seq beyond the tree": (lambda ls: beyond(ls, 999), [{999}]),
    "a truncated file": (lambda ls: ls[:-6], [{396, 397, 398, 399, 400}, None]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_tampering_is_named_by_exactly_its_seqs(signed_log: Fixture, case: str) -> None:
    mutate, expected = CASES[case]
    code, out = verify(signed_log, mutate(export(signed_log)))
    assert code == 1, out
    assert failed_seqs(out) == expected, out


def test_an_untouched_bundle_verifies_and_says_what_it_proved(signed_log: Fixture) -> None:
    code, out = verify(signed_log, export(signed_log), "--tenant", "acme")
    assert code == 0, out
    assert "FAIL" not in out
    assert "proven acme: completeness: the bundle holds every event" in out
    assert "NOT PROVEN acme: category and kind are not in the leaf" in out
    assert "in 1 tenant (acme)" in out


def test_a_changed_category_is_stated_unverified_not_trusted(signed_log: Fixture) -> None:
    lines = edit_event(export(signed_log), 10, _set("category", "billing"))
    code, out = verify(signed_log, lines)
    assert code == 0
    assert "category and kind are not in the leaf" in out


def test_a_partial_header_on_a_complete_bundle_proves_no_completeness(
    signed_log: Fixture,
) -> None:
    lines = edit_header(drop(export(signed_log), 300), complete=False)
    lines[-1] = orjson.dumps({"end": True, "events": len(lines) - 2})  # a careful attacker
    code, out = verify(signed_log, lines)
    assert code == 0
    assert failed_seqs(out) == []
    assert "NOT PROVEN acme: completeness not proven: the bundle is partial" in out
    code, out = verify(signed_log, lines, "--complete")
    assert code == 1
    assert failed_seqs(out) == [{300}]


def test_a_partial_bundle_is_partial_and_its_changes_are_named(signed_log: Fixture) -> None:
    lines = export(signed_log, "outcome:failure")
    code, out = verify(signed_log, lines)
    assert code == 0, out
    assert "completeness not proven: the bundle is partial" in out
    seq = orjson.loads(lines[3])["event"]["seq"]
    code, out = verify(signed_log, edit_event(lines, seq, _set("outcome", "success")))
    assert (code, failed_seqs(out)) == (1, [{seq}])
    code, out = verify(signed_log, [*lines[:-1], lines[3], lines[-1]])
    assert (code, failed_seqs(out)) == (1, [{seq}])


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("tree_size", 5),
        ("root_hash", "AAAA"),
        ("origin", "sealtrail/globex"),
        ("tenant_id", "globex"),
        ("verifier_key", "sealtrail+00000000+AAAA"),
        ("complete", "yes"),
    ],
)
def test_header_members_that_contradict_the_signed_note_fail(
    signed_log: Fixture, member: str, value: object
) -> None:
    code, out = verify(signed_log, edit_header(export(signed_log), **{member: value}))
    assert code == 1
    assert failed_seqs(out) == [None]
    assert "FAIL acme: the header's" in out


def test_unsigned_header_members_are_named_as_unverified(signed_log: Fixture) -> None:
    lines = edit_header(export(signed_log), query="action:auth.login", note="trust me")
    code, out = verify(signed_log, lines)
    assert code == 0
    assert "the header's query, exported_at, note are not signed" in out


def test_the_tenant_is_enforced_and_named(signed_log: Fixture) -> None:
    lines = export(signed_log)
    code, out = verify(signed_log, lines, "--tenant", "globex")
    assert code == 1
    assert "FAIL globex: this is not tenant globex's log" in out
    code, out = verify(signed_log, export(signed_log, tenant="globex"), "--tenant", "globex")
    assert code == 0
    assert "in 1 tenant (globex)" in out


def test_a_vkey_with_surrounding_whitespace_is_read(signed_log: Fixture) -> None:
    code, _ = verify(signed_log, export(signed_log), key=f"\n  {signed_log.vkey} \n\n")
    assert code == 0


def test_growth_from_an_older_checkpoint_is_proven_from_its_last_leaf(signed_log: Fixture) -> None:
    older = signed_log.log.checkpoint(Principal.operator("acme")).note
    signed_log.log.ingest(
        Principal.operator("acme"),
        {"events": [{"action": "auth.login", "actor": {"type": "user", "id": "late"}}] * 3},
    )
    directory = Path(signed_log.path).parent
    (directory / "older.txt").write_text(older)
    size = int(older.split("\n")[1])
    code, out = verify(signed_log, export(signed_log), "--checkpoint", "older.txt")
    assert code == 0, out
    assert f"the log only grew since your checkpoint of size {size} (from seq {size - 1}" in out
    code, out = verify(signed_log, export(signed_log, "kind:access"), "--checkpoint", "older.txt")
    assert code == 0, out
    assert "from the bundle's consistency proof" in out
    code, out = verify(signed_log, drop(export(signed_log), size - 1), "--checkpoint", "older.txt")
    assert (code, failed_seqs(out)) == (1, [{size - 1}])
    assert f"growth since your checkpoint of size {size} not proven" in out


def test_a_bundle_cannot_be_verified_without_a_key_or_with_a_bad_one(signed_log: Fixture) -> None:
    directory = Path(signed_log.path).parent
    (directory / "trail.bundle").write_bytes(b"\n".join(export(signed_log)) + b"\n")
    result = run_cli("verify", "trail.bundle", cwd=directory)
    assert result.returncode == 2
    assert "verifying a bundle needs --key VKEY_FILE" in result.stderr
    (directory / "bad.vkey").write_text("sealtrail+00000000+AAAA\n")
    result = run_cli("verify", "trail.bundle", "--key", "bad.vkey", cwd=directory)
    assert result.returncode == 2
    assert "bad.vkey" in result.stderr
