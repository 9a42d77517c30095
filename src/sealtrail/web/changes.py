"""Before/after pairs found in an event's ``context``, for the expanded row's diff.

Producers spell a change many ways; these are recognised, at the top level of
the context:

* ``previous_role``/``new_role`` (also ``old_``/``prev_``/``from_`` … ``new_``/``to_``)
  and ``role_before``/``role_after`` (also ``_old``/``_new``, ``_from``/``_to``);
* a bare pair: ``previous``/``new``, ``old``/``new``, ``before``/``after``, ``from``/``to``
  — when both sides are objects, one row per key whose value differs;
* ``changes``: ``{field: {"old"|"previous"|"before"|"from": a, "new"|"after"|"to": b}}``
  or ``{field: [a, b]}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

_BEFORE_PREFIXES: Final = ("previous_", "prev_", "old_", "from_")
_AFTER_PREFIXES: Final = ("new_", "to_")
_SUFFIXES: Final = (("_before", "_after"), ("_old", "_new"), ("_from", "_to"), ("_was", "_now"))
_PAIRS: Final = (("previous", "new"), ("old", "new"), ("before", "after"), ("from", "to"))
_BEFORE_KEYS: Final = ("old", "previous", "before", "from", "was")
_AFTER_KEYS: Final = ("new", "after", "to", "now")


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    before: str
    after: str


def show(value: Any) -> str:
    """A value as the diff shows it: text as is, anything else as compact JSON."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode("utf-8")


def find_changes(context: Mapping[str, Any] | None) -> list[Change]:
    if not context:
        return []
    found: dict[str, Change] = {}

    def add(field: str, before: Any, after: Any) -> None:
        if field not in found:
            found[field] = Change(field, show(before), show(after))

    for before_key, after_key in _PAIRS:
        if before_key in context and after_key in context:
            before, after = context[before_key], context[after_key]
            if isinstance(before, Mapping) and isinstance(after, Mapping):
                for key in dict.fromkeys([*before, *after]):
                    if before.get(key) != after.get(key):
                        add(str(key), before.get(key), after.get(key))
            else:
                add("value", before, after)
    for key in context:
        for prefix in _BEFORE_PREFIXES:
            if key.startswith(prefix) and len(key) > len(prefix):
                name = key[len(prefix) :]
                for after_prefix in _AFTER_PREFIXES:
                    if f"{after_prefix}{name}" in context:
                        add(name, context[key], context[f"{after_prefix}{name}"])
        for before_suffix, after_suffix in _SUFFIXES:
            if key.endswith(before_suffix) and len(key) > len(before_suffix):
                name = key[: -len(before_suffix)]
                if f"{name}{after_suffix}" in context:
                    add(name, context[key], context[f"{name}{after_suffix}"])
    changes = context.get("changes")
    if isinstance(changes, Mapping):
        for name, change in changes.items():
            if isinstance(change, list | tuple) and len(change) == 2:
                add(str(name), change[0], change[1])
            elif isinstance(change, Mapping):
                before = next((change[k] for k in _BEFORE_KEYS if k in change), None)
                after = next((change[k] for k in _AFTER_KEYS if k in change), None)
                if any(k in change for k in (*_BEFORE_KEYS, *_AFTER_KEYS)):
                    add(str(name), before, after)
    return list(found.values())
