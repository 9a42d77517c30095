"""Masking at ingest: secrets in an event's ``context`` never reach the log.

Before an event is hashed or stored, every ``context`` value whose key matches
a mask pattern — at any depth, in objects inside lists too — is replaced by
``"[masked]"``, keeping the key, so readers still see *that* a password or a
token changed but not to what. A matched key masks its whole value, object or
list included. With card masking on, any string or integer value (under any
key) that holds a payment card number is masked too.

Patterns are compared with keys case-insensitively and ignoring ``_``, ``-``,
``.`` and spaces, so ``api_key`` matches ``apiKey``, ``X-Api-Key`` and
``stripe_api_key``. A pattern without ``*``, ``?`` or ``[`` matches every key
that *contains* it (``token`` masks ``refresh_token``); one with them is a
glob over the whole key (``pin`` masks ``shipping`` too; ``pin*`` masks
``pin`` and ``pin_code`` but not ``shipping``).

A card number is 13 to 19 digits (spaces or dashes allowed between them) that
starts like a card of a major scheme (Visa, Mastercard, American Express,
Discover, JCB, Diners Club, UnionPay) and passes the Luhn check. The prefix
rule keeps microsecond timestamps and most numeric ids from being masked.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from sealtrail.errors import InvalidInput
from sealtrail.limits import MASKED

_SEPARATORS: Final = re.compile(r"[\s_.\-]+")
_GLOB: Final = frozenset("*?[")
_CARD_RUN: Final = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_CARD_PREFIX: Final = re.compile(
    r"4|5[1-5]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)|3[47]|6(?:011|5|4[4-9]|2)"
    r"|35(?:2[89]|[3-8]\d)|3(?:0[0-5]|[689])"
)
MAX_PATTERN: Final = 64


def _fold(text: str) -> str:
    return _SEPARATORS.sub("", text.casefold())


def parse_patterns(text: str | Iterable[str]) -> tuple[str, ...]:
    """Patterns from a comma-separated string or a list; blank ones are dropped."""
    items = text.split(",") if isinstance(text, str) else list(text)
    out: list[str] = []
    for item in items:
        pattern = item.strip()
        if not pattern:
            continue
        if len(pattern) > MAX_PATTERN or not _fold(pattern):
            raise InvalidInput(f"a mask pattern is 1-{MAX_PATTERN} characters: {pattern!r}")
        if pattern not in out:
            out.append(pattern)
    return tuple(out)


def is_card_number(text: str) -> bool:
    """Whether ``text`` holds a payment card number (scheme prefix, length and Luhn)."""
    for match in _CARD_RUN.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) and _luhn(digits):
            return True
    return False


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


@dataclass(frozen=True, slots=True)
class Masker:
    """The mask patterns in force for one tenant (the global ones and its own)."""

    patterns: tuple[str, ...]
    cards: bool = True
    _contains: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _globs: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        plain = [p for p in self.patterns if not _GLOB & set(p)]
        globs = [p for p in self.patterns if _GLOB & set(p)]
        object.__setattr__(self, "_contains", tuple(_fold(p) for p in plain))
        object.__setattr__(self, "_globs", tuple(_fold(p) for p in globs))

    def masks_key(self, key: str) -> bool:
        folded = _fold(key)
        return any(p in folded for p in self._contains) or any(
            fnmatch.fnmatchcase(folded, g) for g in self._globs
        )

    def mask(self, context: dict[str, Any]) -> dict[str, Any]:
        """``context`` with its secrets masked; the same object when there are none."""
        masked = self._value(context)
        assert isinstance(masked, dict)
        return masked

    def _value(self, value: Any) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] | None = None
            for key, item in value.items():
                new = MASKED if self.masks_key(key) else self._value(item)
                if new is not item:
                    if out is None:
                        out = dict(value)
                    out[key] = new
            return value if out is None else out
        if isinstance(value, list):
            items = [self._value(item) for item in value]
            changed = any(a is not b for a, b in zip(items, value, strict=True))
            return items if changed else value
        if self.cards:
            if isinstance(value, str) and len(value) >= 13 and is_card_number(value):
                return MASKED
            if type(value) is int and 10**12 <= abs(value) < 10**19 and is_card_number(str(value)):
                return MASKED
        return value
