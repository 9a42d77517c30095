"""The layers point inward (docs/architecture.md): checked on every import in the tree.

The core (``events``, ``catalog``, ``ledger``, ``query``, ``limits``) imports no
store, HTTP or CLI code; the edges (``api``, ``web``, ``cli``, ``server``) reach
the store and the ledger only through ``AuditLog``; the API and the viewer do not
import each other. Every ``import`` and ``from … import`` statement is read from
the source (including those inside functions and ``TYPE_CHECKING`` blocks), so a
lazy import cannot slip past.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

import sealtrail

PACKAGE: Final = Path(sealtrail.__file__).resolve().parent

CORE: Final = (
    "events",
    "catalog",
    "ledger",
    "query",
    "limits",
    "errors",
    "strictjson",
    "privacy",
    "masking",
    "saved_searches",
)
EDGES: Final = ("api", "web", "cli", "server")

# (layer, the layers it must never import)
RULES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    *((core, ("store", "api", "web", "cli", "server", "audit_log")) for core in CORE),
    *((edge, ("store", "ledger")) for edge in EDGES),
    ("api", ("web",)),
    ("web", ("api", "cli")),
    ("server", ("cli",)),
    ("store", ("api", "web", "cli", "server", "audit_log")),
    ("streams", ("store", "api", "web", "cli", "server", "audit_log")),
    ("witness", ("store", "api", "web", "cli", "server", "audit_log")),
    # The follower is generic background work over the store: no edge, no stream format.
    ("follower", ("api", "web", "cli", "server", "audit_log", "streams")),
    ("stream_delivery", ("api", "web", "cli", "server", "audit_log", "store")),
    # The rules of keys and rate limits: no edge; the store only through its contract types.
    ("ratelimit", ("api", "web", "cli", "server", "audit_log")),
    ("keys", ("api", "web", "cli", "server", "audit_log")),
    ("follower_pool", ("api", "web", "cli", "server", "audit_log", "store", "streams")),
    ("stream_admin", ("api", "web", "cli", "server", "audit_log")),
    ("timeline", ("store", "api", "web", "cli", "server", "audit_log")),
    # Detections are rules and their state over the store: no edge, no stream format.
    ("detections", ("api", "web", "cli", "server", "audit_log", "streams")),
)


def layer_of(module: str) -> str | None:
    """``sealtrail.api.events`` → ``api``; None outside the package."""
    parts = module.split(".")
    if parts[0] != "sealtrail" or len(parts) < 2:
        return None
    return parts[1]


def imported_modules(source: str, module: str, is_package: bool) -> Iterator[str]:
    """Every module a source file imports, relative imports resolved."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target
            # ``from sealtrail import store`` imports the submodule itself.
            for alias in node.names:
                yield f"{target}.{alias.name}"


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """The imports in ``source`` (the text of ``module``) that break a rule."""
    here = layer_of(module)
    found = []
    for target in imported_modules(source, module, is_package):
        there = layer_of(target)
        if there is None or there == here:
            continue
        for layer, forbidden in RULES:
            if here == layer and there in forbidden:
                found.append(f"{module} imports {target} ({layer} must not import {there})")
    return found


def _modules() -> Iterator[tuple[str, Path, bool]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(relative.parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        yield ".".join(parts), path, is_package


def test_the_layers_point_inward() -> None:
    found = [
        problem
        for module, path, is_package in _modules()
        for problem in violations(path.read_text(encoding="utf-8"), module, is_package)
    ]
    assert not found, "\n".join(found)


def test_every_layer_named_in_the_rules_exists() -> None:
    """A renamed package must not turn its rules into rules about nothing."""
    layers = {layer_of(module) for module, _, _ in _modules()}
    named = {layer for layer, forbidden in RULES for layer in (layer, *forbidden)}
    assert named <= layers, named - layers


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("sealtrail.api.events", "from sealtrail.store.base import SearchResult"),
        ("sealtrail.web.routes", "from sealtrail import ledger"),
        ("sealtrail.cli.ledger", "def f():\n    import sealtrail.store.sqlite\n"),
        ("sealtrail.web", "from sealtrail.api import viewer_sessions"),
        ("sealtrail.api.app", "from sealtrail.web import install"),
        ("sealtrail.query.model", "from sealtrail.store import open_store"),
        ("sealtrail.events", "from sealtrail.api.schemas import EventOut"),
        ("sealtrail.ledger.tree", "from ..store.base import TreeHead"),
        ("sealtrail.server.deps", "from .. import store"),
        ("sealtrail.streams.ocsf", "from sealtrail.store.base import EventStore"),
        ("sealtrail.streams.webhook", "from ..server import deps"),
    ],
)
def test_a_wrong_import_is_caught(module: str, source: str) -> None:
    is_package = module.count(".") == 1 and module.split(".")[1] in ("web", "api")
    assert violations(source, module, is_package), source


def test_an_allowed_import_passes() -> None:
    assert not violations("from sealtrail.audit_log import AuditLog", "sealtrail.api.events")
    assert not violations("from sealtrail.store.base import EventStore", "sealtrail.verify")
    assert not violations("from . import filters", "sealtrail.web.routes")
