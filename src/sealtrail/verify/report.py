"""What a verification found, proved, and could not prove.

A ``Problem`` is evidence of tampering (or damage) and fails the run; it names
the events it concerns by ``seq`` — one seq, or a run ``first..last`` when the
evidence cannot tell the events of a run apart. A warning is something an
operator should fix that is not evidence (no checkpoint was ever signed). Every
run also states, per tenant, what it proved and what it did not, so a pass is
never read as more than it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """Evidence of tampering: ``seq`` (through ``last_seq``, for a run), or None."""

    tenant_id: str
    seq: int | None
    message: str
    last_seq: int | None = None

    @property
    def seqs(self) -> range:
        """Every seq this problem names (empty when it names none)."""
        if self.seq is None:
            return range(0)
        return range(self.seq, (self.last_seq if self.last_seq is not None else self.seq) + 1)

    def __str__(self) -> str:
        if self.seq is None:
            where = self.tenant_id
        elif self.last_seq is None or self.last_seq == self.seq:
            where = f"{self.tenant_id} seq {self.seq}"
        else:
            where = f"{self.tenant_id} seq {self.seq}..{self.last_seq}"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Statement:
    """One thing a run proved, did not prove, or warns about, for one tenant."""

    tenant_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.message}"


@dataclass
class Report:
    events: int = 0
    checkpoints: int = 0
    tenants: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Statement] = field(default_factory=list)
    proven: list[Statement] = field(default_factory=list)
    not_proven: list[Statement] = field(default_factory=list)
    pruned: list[Statement] = field(default_factory=list)
    """Ranges pruned under a retention policy: not evidence, stated so it is never read as such."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(
        self, tenant_id: str, seq: int | None, message: str, last_seq: int | None = None
    ) -> None:
        if last_seq == seq:
            last_seq = None
        self.problems.append(Problem(tenant_id, seq, message, last_seq))

    def warn(self, tenant_id: str, message: str) -> None:
        self.warnings.append(Statement(tenant_id, message))

    def prove(self, tenant_id: str, message: str) -> None:
        self.proven.append(Statement(tenant_id, message))

    def cannot_prove(self, tenant_id: str, message: str) -> None:
        self.not_proven.append(Statement(tenant_id, message))

    def prune(self, tenant_id: str, message: str) -> None:
        self.pruned.append(Statement(tenant_id, message))

    def named_seqs(self, tenant_id: str) -> set[int]:
        """Every seq the problems of one tenant name."""
        return {s for p in self.problems if p.tenant_id == tenant_id for s in p.seqs}

    def to_dict(self) -> dict[str, Any]:
        def statements(items: list[Statement]) -> list[dict[str, str]]:
            return [{"tenant_id": s.tenant_id, "message": s.message} for s in items]

        return {
            "ok": self.ok,
            "events": self.events,
            "checkpoints": self.checkpoints,
            "tenants": self.tenants,
            "problems": [
                {
                    "tenant_id": p.tenant_id,
                    "seq": p.seq,
                    "last_seq": p.last_seq,
                    "message": p.message,
                }
                for p in self.problems
            ],
            "warnings": statements(self.warnings),
            "proven": statements(self.proven),
            "not_proven": statements(self.not_proven),
            "pruned": statements(self.pruned),
        }


def runs(seqs: list[int]) -> list[tuple[int, int]]:
    """Sorted seqs as runs of consecutive numbers ``(first, last)``."""
    out: list[tuple[int, int]] = []
    for seq in seqs:
        if out and seq == out[-1][1] + 1:
            out[-1] = (out[-1][0], seq)
        else:
            out.append((seq, seq))
    return out
