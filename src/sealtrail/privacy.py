"""Erasing a data subject (GDPR Art. 17) without breaking a single proof: the pure part.

A ``Subject`` names a person the way the log knows them: by email (as actor or
target), or by the host product's user id (as actor, as target, or either).
For each event that still holds something of theirs, ``plan`` says which
personal fields to clear and the commitment the leaf keeps for each: the
commitment is computed from the value and its salt, exactly as the leaf
computed it (``ledger.leaf.commitment``), so the leaf hash does not change.

Which fields belong to the subject:

* where they are the **actor**: ``actor.name``, ``actor.email``, ``ip`` and
  ``user_agent`` (the actor's own client);
* where they are the **target**: ``target.name`` and ``target.email``;
* in either case ``description`` and ``context`` when they mention one of
  the subject's values (their email, or the name or email the event gives
  them), compared without regard to case;
* Sealtrail's own access records (``audit_log.viewed``/``exported``) whose
  context holds the subject's email (a search for them): that ``context``.

Ids are not personal fields: they enter the leaf in clear and stay.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, cast, get_args

from sealtrail.errors import InvalidInput
from sealtrail.events import Event
from sealtrail.ledger.leaf import commitment
from sealtrail.limits import ERASED, MAX_EMAIL, MAX_ID, MAX_REASON

SubjectKind = Literal["email", "id", "actor_id", "target_id"]
SUBJECT_KINDS: Final[tuple[SubjectKind, ...]] = get_args(SubjectKind)
ACCESS_ACTIONS: Final = (
    "audit_log.viewed",
    "audit_log.exported",
    "audit_log.saved_search_created",
    "audit_log.saved_search_deleted",
)
"""Sealtrail's own records whose context may hold a search phrase, and so an email."""
ACTOR_FIELDS: Final = ("actor.name", "actor.email", "ip", "user_agent")
TARGET_FIELDS: Final = ("target.name", "target.email")


@dataclass(frozen=True, slots=True)
class Subject:
    """Whose personal data to erase: exactly one way of naming them."""

    kind: SubjectKind
    value: str

    def __post_init__(self) -> None:
        if self.kind not in SUBJECT_KINDS:
            raise InvalidInput(f"a subject is named by {', '.join(SUBJECT_KINDS)}")
        limit = MAX_EMAIL if self.kind == "email" else MAX_ID
        if not isinstance(self.value, str) or not self.value.strip() or len(self.value) > limit:
            raise InvalidInput(f"the subject's {self.kind} must be 1-{limit} characters")
        if self.kind == "email" and "@" not in self.value:
            raise InvalidInput("the subject's email must be an email address")

    @classmethod
    def named(cls, kind: str, value: str) -> Subject:
        """A subject from a kind held as text (a job's row, a CLI option); checked."""
        return cls(cast(SubjectKind, kind), value)

    @classmethod
    def from_body(cls, body: object) -> Subject:
        """``{"email": …}`` or ``{"id": …}`` (the API's ``subject`` member)."""
        if not isinstance(body, dict) or len(body) != 1:
            raise InvalidInput('subject must be {"email": …} or {"id": …}')
        ((key, value),) = body.items()
        if key not in ("email", "id") or not isinstance(value, str):
            raise InvalidInput('subject must be {"email": …} or {"id": …}')
        return cls.named(key, value)

    @property
    def email(self) -> str | None:
        return self.value if self.kind == "email" else None

    @property
    def actor_id(self) -> str | None:
        return self.value if self.kind in ("id", "actor_id") else None

    @property
    def target_id(self) -> str | None:
        return self.value if self.kind in ("id", "target_id") else None

    def is_actor(self, event: Event) -> bool:
        actor = event.actor
        if self.email is not None:
            return actor.email is not None and actor.email.lower() == self.email.lower()
        return actor.id == self.actor_id

    def is_target(self, event: Event) -> bool:
        target = event.target
        if target is None:
            return False
        if self.email is not None:
            return target.email is not None and target.email.lower() == self.email.lower()
        return target.id == self.target_id


def check_reason(reason: str, subject: Subject) -> str:
    """The reason, stripped; it is recorded in the log, so it may not name the subject."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > MAX_REASON:
        raise InvalidInput(f"an erasure needs a reason of 1-{MAX_REASON} characters")
    if subject.value.casefold() in text.casefold():
        raise InvalidInput("the reason must not name the subject: it stays in the log")
    return text


@dataclass(frozen=True, slots=True)
class ErasureRequest:
    """The body of ``POST /v1/erasures``: ``{"subject": {...}, "reason", "dry_run"?}``."""

    subject: Subject
    reason: str
    dry_run: bool = False

    @classmethod
    def from_body(cls, body: object) -> ErasureRequest:
        if not isinstance(body, dict):
            raise InvalidInput("the body must be a JSON object")
        unknown = sorted(set(body) - {"subject", "reason", "dry_run"})
        if unknown:
            raise InvalidInput(f"{unknown[0]!r} is not a field of an erasure request")
        dry_run = body.get("dry_run", False)
        if not isinstance(dry_run, bool):
            raise InvalidInput("dry_run must be true or false")
        reason = body.get("reason")
        if not isinstance(reason, str):
            raise InvalidInput("an erasure needs a reason (a string)")
        return cls(Subject.from_body(body.get("subject")), reason, dry_run)


def _value(event: Event, path: str) -> Any:
    if path == "context":
        return event.context
    head, _, tail = path.partition(".")
    part = getattr(event, head)
    return getattr(part, tail) if tail and part is not None else part


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _mentions(value: Any, needles: set[str]) -> bool:
    return any(needle in text.casefold() for text in _strings(value) for needle in needles)


def plan(event: Event, subject: Subject) -> dict[str, str]:
    """The fields of ``event`` to clear for ``subject``, each with its commitment (base64).

    Fields already erased, or absent, are not in the plan; an empty plan means
    the event holds nothing (more) of the subject.
    """
    paths: list[str] = []
    if subject.is_actor(event):
        paths += ACTOR_FIELDS
    if subject.is_target(event):
        paths += TARGET_FIELDS
    needles = {v.casefold() for p in paths if isinstance(v := _value(event, p), str)}
    if subject.email is not None:
        needles.add(subject.email.casefold())
    needles.discard(ERASED.casefold())
    needles.discard("")
    if paths or event.action in ACCESS_ACTIONS:
        paths += [p for p in ("description", "context") if _mentions(_value(event, p), needles)]
    out: dict[str, str] = {}
    for path in paths:
        value = _value(event, path)
        if value is None or path in event.commitments:
            continue
        salt = event.salts.get(path)
        if salt is None:  # a field without a salt has no leaf form; verification reports it
            continue
        out[path] = commitment(salt, value)
    return out
