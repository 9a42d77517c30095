"""Witness policies: C2SP tlog-policy files, or ``--witness VKEY … --quorum N``.

A policy names the log keys a checkpoint may be signed by, the witnesses (each
with a vkey and, for the log's own use, the URL of its submission prefix) and
a quorum: a witness, ``none``, or a group needing k of its members::

    log sealtrail+66293c2f+AfoL0V26X/…
    witness w1 witness.example/w1+0d2c…+BI… https://witness.example/w1
    witness w2 security.acme.example+77a1…+BF…
    group both all w1 w2
    quorum both

One difference from tlog-policy: it asks that a log key's name match the
checkpoint origin. Sealtrail signs every tenant's origin (``sealtrail/<id>``)
with one key named ``sealtrail``, so the origin is checked separately (the
verifier knows which tenant it expects) and the log key's name is not
required to equal it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from sealtrail.errors import NoteError
from sealtrail.ledger.cosignature import CosignatureVerifier, parse_witness_vkey
from sealtrail.ledger.note import Verifier, parse_vkey

NONE: Final = "none"


class PolicyError(NoteError):
    """A policy file that does not parse or does not make sense."""

    code = "invalid_policy"


@dataclass(frozen=True, slots=True)
class Witness:
    name: str
    verifier: CosignatureVerifier
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    logs: tuple[Verifier, ...] = ()
    witnesses: Mapping[str, Witness] = field(default_factory=dict)
    groups: Mapping[str, Group] = field(default_factory=dict)
    quorum: str = NONE

    @classmethod
    def of_witnesses(cls, vkeys: Sequence[str], quorum: int | None = None) -> Policy:
        """``--witness VKEY …`` with ``--quorum N`` (default: every one of them)."""
        witnesses = {}
        for vkey in vkeys:
            verifier = parse_witness_vkey(vkey)
            if verifier.name in witnesses:
                raise PolicyError(f"witness {verifier.name} is given twice")
            witnesses[verifier.name] = Witness(verifier.name, verifier)
        if not witnesses:
            if quorum:
                raise PolicyError("a quorum needs witnesses")
            return cls()
        needed = len(witnesses) if quorum is None else quorum
        if not 1 <= needed <= len(witnesses):
            raise PolicyError(f"the quorum must be 1..{len(witnesses)}, not {needed}")
        group = Group("quorum", needed, tuple(witnesses))
        return cls((), witnesses, {group.name: group}, group.name)

    @classmethod
    def parse(cls, text: str) -> Policy:
        logs: list[Verifier] = []
        witnesses: dict[str, Witness] = {}
        groups: dict[str, Group] = {}
        quorum: str | None = None
        for number, raw in enumerate(text.split("\n"), start=1):
            line = raw.strip(" \t")
            if not line or line.startswith("#"):
                continue
            if any(c < " " and c != "\t" for c in line) or "\x7f" in line:
                raise PolicyError(f"policy line {number}: control character")
            words = line.replace("\t", " ").split()
            keyword, args = words[0], words[1:]
            where = f"policy line {number}"
            if keyword == "log" and len(args) in (1, 2):
                logs.append(_log_key(args[0], where))
            elif keyword == "witness" and len(args) in (2, 3):
                name = args[0]
                _new_name(name, witnesses, groups, where)
                verifier = _witness_key(args[1], where)
                if any(w.verifier.public_key == verifier.public_key for w in witnesses.values()):
                    raise PolicyError(f"{where}: duplicate witness key")
                witnesses[name] = Witness(name, verifier, args[2] if len(args) == 3 else None)
            elif keyword == "group" and len(args) >= 3:
                name, threshold_text, members = args[0], args[1], tuple(args[2:])
                _new_name(name, witnesses, groups, where)
                for member in members:
                    if member not in witnesses and member not in groups:
                        raise PolicyError(f"{where}: {member!r} is not defined above")
                if len(set(members)) != len(members):
                    raise PolicyError(f"{where}: a member is listed twice")
                threshold = _threshold(threshold_text, len(members), where)
                groups[name] = Group(name, threshold, members)
            elif keyword == "quorum" and len(args) == 1:
                if quorum is not None:
                    raise PolicyError(f"{where}: a second quorum line")
                if args[0] != NONE and args[0] not in witnesses and args[0] not in groups:
                    raise PolicyError(f"{where}: quorum {args[0]!r} is not defined above")
                quorum = args[0]
            else:
                raise PolicyError(f"{where}: cannot read {line[:60]!r}")
        if quorum is None:
            raise PolicyError("the policy has no quorum line")
        if len({log.public_key for log in logs}) != len(logs):
            raise PolicyError("the policy lists a log key twice")
        return cls(tuple(logs), witnesses, groups, quorum)

    @property
    def witness_verifiers(self) -> list[CosignatureVerifier]:
        return [w.verifier for w in self.witnesses.values()]

    def satisfied(self, cosigned: Iterable[CosignatureVerifier]) -> bool:
        """Whether witnesses whose cosignatures verified make the quorum."""
        done = set(cosigned)
        names = {name for name, w in self.witnesses.items() if w.verifier in done}
        return self._holds(self.quorum, names)

    def describe(self) -> str:
        if self.quorum == NONE:
            return "no witness needed"
        return self._describe(self.quorum)

    def _holds(self, name: str, cosigned: set[str]) -> bool:
        if name == NONE:
            return True
        group = self.groups.get(name)
        if group is None:
            return name in cosigned
        return sum(self._holds(member, cosigned) for member in group.members) >= group.threshold

    def _describe(self, name: str) -> str:
        group = self.groups.get(name)
        if group is None:
            return self.witnesses[name].verifier.name
        inner = ", ".join(self._describe(member) for member in group.members)
        return f"{group.threshold} of ({inner})"


def _new_name(
    name: str, witnesses: Mapping[str, Witness], groups: Mapping[str, Group], where: str
) -> None:
    if name == NONE or name in witnesses or name in groups:
        raise PolicyError(f"{where}: the name {name!r} is reserved or already defined")


def _threshold(text: str, members: int, where: str) -> int:
    if text == "all":
        return members
    if text == "any":
        return 1
    if not text.isdecimal() or not 1 <= int(text) <= members:
        raise PolicyError(f"{where}: threshold {text!r} must be all, any or 1..{members}")
    return int(text)


def _log_key(vkey: str, where: str) -> Verifier:
    try:
        return parse_vkey(vkey)
    except NoteError as exc:
        raise PolicyError(f"{where}: {exc.message}") from None


def _witness_key(vkey: str, where: str) -> CosignatureVerifier:
    try:
        return parse_witness_vkey(vkey)
    except NoteError as exc:
        raise PolicyError(f"{where}: {exc.message}") from None
