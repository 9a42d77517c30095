"""The event catalog: what each action means, how it is grouped and how it reads.

The built-in types live in ``catalog.toml`` beside this module (package data) and are
validated when first loaded. A tenant may register its own types on top
(:meth:`Catalog.with_types`). Actions no type names are still classified: kind from the
verb (SPEC §4), category from the resource prefix, and a generic description.

``python -m sealtrail.catalog --markdown`` prints ``docs/catalog.md``.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import TypedDict, TypeGuard

from sealtrail.errors import ConfigurationError, FieldError, InvalidEvent, InvalidInput
from sealtrail.limits import (
    ACTION_PATTERN,
    ACTION_REGEX,
    KINDS,
    MAX_DESCRIPTION,
    SLUG_REGEX,
    Kind,
)

__all__ = [
    "KINDS",
    "OTHER_CATEGORY",
    "PLACEHOLDERS",
    "Catalog",
    "EventType",
    "EventTypeDict",
    "Kind",
    "catalog_markdown",
    "event_type_from_body",
    "kind_for_action",
]


OTHER_CATEGORY = "other"
PLACEHOLDERS = frozenset({"actor", "target", "resource", "resource_type", "resource_id", "action"})

_SLUG = re.compile(SLUG_REGEX)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")

_GENERIC_DESCRIPTION = "{actor} performed {action}"

# SPEC §4, checked in this order against the end of the verb ("disconnected" before "connected").
_VERB_SUFFIXES: tuple[tuple[str, Kind], ...] = (
    ("disconnected", "delete"),
    ("deleted", "delete"),
    ("removed", "delete"),
    ("revoked", "delete"),
    ("offboarded", "delete"),
    ("updated", "update"),
    ("changed", "update"),
    ("created", "create"),
    ("invited", "create"),
    ("connected", "create"),
    ("added", "create"),
)


def _words(kind: Kind, words: str) -> dict[str, Kind]:
    return dict.fromkeys(words.split(), kind)


# Beyond the SPEC: whole verbs, then the verb's last "_" word.
_VERB_WORDS: dict[str, Kind] = {
    **_words(
        "create",
        "create add invite connect insert inserted register registered provision provisioned"
        " issue issued generate generated link linked purchase purchased accept accepted join"
        " joined activate activated reactivated grant granted assign assigned install installed"
        " attach attached duplicate duplicated copy copied clone cloned upload uploaded import"
        " imported subscribe subscribed send sent",
    ),
    **_words(
        "update",
        "update change edit edited modify modified rename renamed set configure configured"
        " enable enabled disable disabled move moved restore restored rotate rotated reset"
        " publish published unpublish unpublished verify verified renew renewed save saved"
        " replace replaced toggle toggled upgrade upgraded downgrade downgraded",
    ),
    **_words(
        "delete",
        "delete remove revoke disconnect offboard destroy destroyed purge purged erase erased"
        " archive archived deactivate deactivated release released unlink unlinked cancel"
        " cancelled canceled unassign unassigned unsubscribe unsubscribed suspend suspended"
        " ban banned block blocked detach detached uninstall uninstalled",
    ),
    **_words(
        "access",
        "view viewed read export exported download downloaded login logout signin signout"
        " logged_in logged_out signed_in signed_out log_in log_out sign_in sign_out access"
        " accessed list listed search searched open opened",
    ),
}


def kind_for_action(action: str) -> Kind:
    """The kind of an action no type names, from its verb (its last dot segment).

    SPEC §4 first: a verb ending in created/invited/connected/added is ``create``,
    updated/changed ``update``, deleted/removed/revoked/offboarded/disconnected
    ``delete``. Then a table of further verbs (``viewed``/``exported``/``login`` are
    ``access``), matched whole and then by the verb's last ``_`` word; else ``other``.
    """
    verb = action.rpartition(".")[2]
    for suffix, kind in _VERB_SUFFIXES:
        if verb.endswith(suffix):
            return kind
    known = _VERB_WORDS.get(verb) or _VERB_WORDS.get(verb.rpartition("_")[2])
    return known or "other"


class EventTypeDict(TypedDict):
    """An event type as the API returns it (``GET /v1/catalog``)."""

    name: str
    category: str
    kind: Kind
    description: str
    expects_target: bool
    resource_type: str | None
    builtin: bool


@dataclass(frozen=True)
class EventType:
    """One kind of event: ``name`` is the action, ``description`` its template."""

    name: str
    category: str
    kind: Kind
    description: str
    expects_target: bool = False
    resource_type: str | None = None
    builtin: bool = True

    def to_dict(self) -> EventTypeDict:
        return {
            "name": self.name,
            "category": self.category,
            "kind": self.kind,
            "description": self.description,
            "expects_target": self.expects_target,
            "resource_type": self.resource_type,
            "builtin": self.builtin,
        }


def _template_problem(template: str) -> str | None:
    if not template.strip():
        return "description is empty"
    for name in _PLACEHOLDER.findall(template):
        if name not in PLACEHOLDERS:
            allowed = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
            return f"description has unknown placeholder {{{name}}} (allowed: {allowed})"
    if "{" in _PLACEHOLDER.sub("", template) or "}" in _PLACEHOLDER.sub("", template):
        return "description has an unmatched brace"
    if len(template) > MAX_DESCRIPTION:
        return f"description is longer than {MAX_DESCRIPTION} characters"
    return None


def _problems(event_type: EventType) -> list[str]:
    problems = []
    if not ACTION_PATTERN.fullmatch(event_type.name):
        problems.append(f"name must look like resource.verb: {ACTION_REGEX}")
    if event_type.kind not in KINDS:
        problems.append(f"kind must be one of {', '.join(KINDS)}")
    if not _SLUG.fullmatch(event_type.category):
        problems.append("category must be a lower-case slug")
    if event_type.resource_type is not None and not _SLUG.fullmatch(event_type.resource_type):
        problems.append("resource_type must be a lower-case slug")
    template_problem = _template_problem(event_type.description)
    if template_problem:
        problems.append(template_problem)
    return problems


def _clean(value: str | None) -> str | None:
    """A user-supplied value fit for a one-line summary, or None when there is nothing."""
    if value is None:
        return None
    value = _LINE_BREAKS.sub(" ", value).strip()
    return value or None


class Catalog:
    """An immutable set of event types and the category labels that group them."""

    __slots__ = ("_home", "_labels", "_types")

    def __init__(self, types: Iterable[EventType], labels: Mapping[str, str]) -> None:
        self._types: dict[str, EventType] = {t.name: t for t in types}
        self._labels: dict[str, str] = dict(labels)
        self._home = self._home_categories()

    @classmethod
    def builtin(cls) -> Catalog:
        """The built-in catalog from the package's ``catalog.toml`` (loaded once)."""
        return _builtin()

    @classmethod
    def from_toml(cls, text: str, *, source: str = "catalog.toml") -> Catalog:
        """Parse and validate a catalog file; any problem raises ConfigurationError."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{source}: not valid TOML: {exc}") from exc
        return _parse(data, source)

    def with_types(
        self, types: Iterable[EventType], *, labels: Mapping[str, str] | None = None
    ) -> Catalog:
        """This catalog plus tenant-registered types, which override built-ins by name.

        Registered types are marked ``builtin=False``; ``labels`` names new categories.
        A type that would not validate raises InvalidInput naming it.
        """
        added = []
        for event_type in types:
            problems = _problems(event_type)
            if problems:
                raise InvalidInput(f"event type {event_type.name!r}: {'; '.join(problems)}")
            added.append(replace(event_type, builtin=False))
        for slug in labels or {}:
            if not _SLUG.fullmatch(slug):
                raise InvalidInput(f"category {slug!r} must be a lower-case slug")
        return Catalog([*self._types.values(), *added], {**self._labels, **(labels or {})})

    def lookup(self, action: str) -> EventType | None:
        return self._types.get(action)

    def is_known(self, action: str) -> bool:
        return action in self._types

    def classify(self, action: str) -> EventType:
        """The action's type, or one synthesised for an action no type names.

        The action is not validated here; events are validated before they get this far.
        """
        known = self._types.get(action)
        if known is not None:
            return known
        return EventType(
            name=action,
            category=self._home.get(action.partition(".")[0], OTHER_CATEGORY),
            kind=kind_for_action(action),
            description=_GENERIC_DESCRIPTION,
            builtin=False,
        )

    def types(self) -> list[EventType]:
        """Every type, sorted by name."""
        return sorted(self._types.values(), key=lambda t: t.name)

    def categories(self) -> list[tuple[str, str, list[EventType]]]:
        """``(slug, label, types)`` for each category that has types, in catalog order.

        Declared categories come first in the order the catalog declares them, then any
        category only a tenant type names, by slug; types within each are sorted by name.
        """
        grouped: dict[str, list[EventType]] = {}
        for event_type in self.types():
            grouped.setdefault(event_type.category, []).append(event_type)
        order = [s for s in self._labels if s in grouped]
        order += sorted(s for s in grouped if s not in self._labels)
        return [(slug, self.category_label(slug), grouped[slug]) for slug in order]

    def category_label(self, slug: str) -> str:
        return self._labels.get(slug) or slug.replace("_", " ").capitalize()

    def actions_in_category(self, slug: str) -> list[str]:
        return sorted(name for name, t in self._types.items() if t.category == slug)

    def describe(
        self,
        action: str,
        *,
        actor: str,
        target: str | None,
        resource: str | None,
        resource_type: str | None = None,
        resource_id: str | None = None,
    ) -> str:
        """The one-line summary of an event, from its type's template.

        Values are user data: they are substituted in one pass and never read as a
        template, so braces in them stay literal. Line breaks and control characters in
        them become spaces; a missing value reads "Someone"/"someone"/"(unknown)"; the
        result is cut to 1000 characters.
        """
        event_type = self.classify(action)
        fallback_id = _clean(resource_id)
        values = {
            "actor": _clean(actor) or "Someone",
            "target": _clean(target) or "someone",
            "resource": _clean(resource) or fallback_id or "(unknown)",
            "resource_type": _clean(resource_type) or event_type.resource_type or "resource",
            "resource_id": fallback_id or "(unknown)",
            "action": _clean(action) or "(unknown)",
        }
        text = _PLACEHOLDER.sub(
            lambda m: values.get(m.group(1), m.group(0)), event_type.description
        )
        if len(text) > MAX_DESCRIPTION:
            text = text[: MAX_DESCRIPTION - 1] + "…"
        return text

    def _home_categories(self) -> dict[str, str]:
        """Which category an unknown action joins, by its first segment.

        The majority category of the prefix's one-word verbs (``workspace.created``),
        else of all its actions; ties go to the category declared first.
        """
        rank = {slug: i for i, slug in enumerate(self._labels)}
        by_prefix: dict[str, tuple[Counter[str], Counter[str]]] = {}
        for name, event_type in self._types.items():
            prefix, _, verb = name.partition(".")
            simple, every = by_prefix.setdefault(prefix, (Counter(), Counter()))
            every[event_type.category] += 1
            if "_" not in verb and "." not in verb:
                simple[event_type.category] += 1
        home = {}
        for prefix, (simple, every) in by_prefix.items():
            counts = simple or every
            home[prefix] = min(counts, key=lambda c: (-counts[c], rank.get(c, len(rank)), c))
        return home


@cache
def _builtin() -> Catalog:
    text = resources.files("sealtrail").joinpath("catalog.toml").read_text(encoding="utf-8")
    return Catalog.from_toml(text, source="sealtrail/catalog.toml")


_CATEGORY_KEYS = frozenset({"slug", "label", "types"})
_TYPE_KEYS = frozenset({"name", "kind", "description", "target", "resource"})


def _is_table(value: object) -> TypeGuard[dict[str, object]]:
    return isinstance(value, dict)


def _parse(data: dict[str, object], source: str) -> Catalog:
    def fail(where: str, message: str) -> ConfigurationError:
        return ConfigurationError(f"{source}: {where}: {message}")

    if data.get("version") != 1:
        raise fail("version", "must be 1")
    extra = set(data) - {"version", "category"}
    if extra:
        raise fail("top level", f"unknown keys {sorted(extra)}")
    categories = data.get("category")
    if not isinstance(categories, list) or not categories:
        raise fail("category", "must be a non-empty array of tables ([[category]])")

    labels: dict[str, str] = {}
    types: dict[str, EventType] = {}
    for index, category in enumerate(categories):
        where = f"category #{index + 1}"
        if not _is_table(category):
            raise fail(where, "must be a table")
        if set(category) != _CATEGORY_KEYS:
            raise fail(where, f"needs exactly the keys {sorted(_CATEGORY_KEYS)}")
        slug, label, entries = category["slug"], category["label"], category["types"]
        if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
            raise fail(where, "slug must be a lower-case slug")
        where = f"category {slug!r}"
        if slug in labels:
            raise fail(where, "declared twice")
        if not isinstance(label, str) or not label.strip():
            raise fail(where, "label must be a non-empty string")
        if not isinstance(entries, list):
            raise fail(where, "types must be an array")
        labels[slug] = label
        for position, entry in enumerate(entries):
            event_type = _parse_type(entry, slug, f"{source}: {where} type #{position + 1}")
            if event_type.name in types:
                raise fail(f"type {event_type.name!r}", "declared twice")
            types[event_type.name] = event_type
    return Catalog(types.values(), labels)


def _parse_type(entry: object, category: str, where: str) -> EventType:
    def fail(message: str) -> ConfigurationError:
        return ConfigurationError(f"{where}: {message}")

    if not _is_table(entry):
        raise fail("must be a table")
    missing = {"name", "kind", "description"} - set(entry)
    extra = set(entry) - _TYPE_KEYS
    if missing or extra:
        raise fail(f"missing keys {sorted(missing)}, unknown keys {sorted(extra)}")
    name, kind, description = entry["name"], entry["kind"], entry["description"]
    target, resource = entry.get("target", False), entry.get("resource")
    if not isinstance(name, str):
        raise fail("name must be a string")
    if not isinstance(kind, str) or not _is_kind(kind):
        raise fail(f"{name}: kind must be one of {', '.join(KINDS)}")
    if not isinstance(description, str):
        raise fail(f"{name}: description must be a string")
    if not isinstance(target, bool):
        raise fail(f"{name}: target must be true or false")
    if resource is not None and not isinstance(resource, str):
        raise fail(f"{name}: resource must be a string")
    event_type = EventType(name, category, kind, description, target, resource)
    problems = _problems(event_type)
    if problems:
        raise fail(f"{name}: {'; '.join(problems)}")
    return event_type


def _is_kind(value: str) -> TypeGuard[Kind]:
    return value in KINDS


def _escape_cell(text: str) -> str:
    return text.replace("|", "\\|")


def catalog_markdown(catalog: Catalog | None = None) -> str:
    """``docs/catalog.md``: the catalog as Markdown tables, one per category."""
    catalog = catalog or Catalog.builtin()
    groups = catalog.categories()
    count = sum(len(types) for _, _, types in groups)
    lines = [
        "# Event catalog",
        "",
        "<!-- Generated from src/sealtrail/catalog.toml by"
        " `python -m sealtrail.catalog --markdown > docs/catalog.md`;"
        " a test fails when this file and the catalog differ. -->",
        "",
        f"Sealtrail ships {count} built-in event types in {len(groups)} categories."
        " Each event's `category` and `kind` come from its type, and when an event is"
        " sent without a `description` one is written from the type's template.",
        "",
        "## Kinds",
        "",
        "| kind | badge | meaning |",
        "|---|---|---|",
        "| `create` | green | something was created, added, invited, connected or granted |",
        "| `update` | blue | something was changed, configured, moved or published |",
        "| `delete` | red | something was deleted, removed, revoked, disconnected or cancelled |",
        "| `access` | grey | someone signed in, or read or exported the audit log |",
        "| `other` | grey | anything else |",
        "",
        "## Templates",
        "",
        "Descriptions are templates with the placeholders "
        + ", ".join(f"`{{{p}}}`" for p in sorted(PLACEHOLDERS))
        + ". Values are substituted once and never read as templates; line breaks in"
        " them become spaces. A missing actor reads `Someone`, a missing target `someone`,"
        " a missing resource its id or `(unknown)`.",
        "",
        "## Unknown actions and tenant types",
        "",
        "Tenants may register their own types; they override built-in ones of the same"
        " name. An action that no type names is still accepted (unless the tenant is"
        " strict) and classified:",
        "",
        "- **kind** from its verb, the last dot segment: ending in `created`, `invited`,"
        " `connected` or `added` is `create`; `updated` or `changed` is `update`;"
        " `deleted`, `removed`, `revoked`, `offboarded` or `disconnected` is `delete`."
        " A few more verbs are recognised whole or by their last `_` word"
        " (`viewed`, `exported`, `login` are `access`; `archived` is `delete`; …);"
        " anything else is `other`.",
        "- **category** from its first segment: the category of the catalog's actions with"
        " that prefix (`member.promoted` is in `members`), else `other`.",
        "- **description** `{actor} performed {action}`.",
    ]
    for slug, label, types in groups:
        lines += [
            "",
            f"## {label} (`{slug}`)",
            "",
            "| action | kind | description template | target | resource type |",
            "|---|---|---|---|---|",
        ]
        for t in types:
            resource = f"`{t.resource_type}`" if t.resource_type else ""
            lines.append(
                f"| `{t.name}` | {t.kind} | {_escape_cell(t.description)}"
                f" | {'yes' if t.expects_target else ''} | {resource} |"
            )
    return "\n".join(lines) + "\n"


_TYPE_FIELDS = {"name", "category", "kind", "description", "expects_target", "resource_type"}


def event_type_from_body(body: object) -> EventType:
    """A tenant's own type from the JSON body of ``POST /v1/catalog``; ``InvalidEvent``
    names every bad field (the type's rules are then checked by ``Catalog.with_types``)."""
    if not isinstance(body, dict):
        raise InvalidEvent(
            "an event type is a JSON object", [FieldError("type", "must be an object")]
        )
    problems = [FieldError(k, "is not a known field") for k in body if k not in _TYPE_FIELDS]
    for key in ("name", "category", "kind", "description"):
        if not isinstance(body.get(key), str):
            problems.append(FieldError(key, "is required and must be a string"))
    if not isinstance(body.get("expects_target", False), bool):
        problems.append(FieldError("expects_target", "must be true or false"))
    if not isinstance(body.get("resource_type"), str | None):
        problems.append(FieldError("resource_type", "must be a string"))
    if body.get("kind") not in KINDS:
        problems.append(FieldError("kind", f"must be one of {', '.join(KINDS)}"))
    if problems:
        raise InvalidEvent("the event type is invalid", problems)
    return EventType(
        name=body["name"],
        category=body["category"],
        kind=body["kind"],
        description=body["description"],
        expects_target=body.get("expects_target", False),
        resource_type=body.get("resource_type"),
        builtin=False,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sealtrail.catalog", description="Print the built-in event catalog."
    )
    parser.add_argument("--markdown", action="store_true", help="print docs/catalog.md")
    args = parser.parse_args(argv)
    if not args.markdown:
        parser.print_help()
        return 2
    sys.stdout.write(catalog_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
