"""The docs match the code: every command, setting and route is documented."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.cli import cli
from sealtrail.server.app import create_app
from sealtrail.settings import Settings

from .routes import every_route

DOCS = Path(__file__).resolve().parents[1] / "docs"
README = DOCS.parent / "README.md"


def test_the_readme_counts_the_catalogs_built_in_types() -> None:
    from sealtrail.catalog import Catalog

    count = len(Catalog.builtin().types())
    found = re.search(r"— (\d+) built-in event types", README.read_text())
    assert found is not None and int(found.group(1)) == count


def test_readme_opens_with_the_two_commands() -> None:
    head = README.read_text().split("\n\n", 3)[:3]
    assert "make run" in "\n".join(head)
    assert "make test" in "\n".join(head)


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    for name, command in cli.commands.items():
        assert f"`{name}" in text, name
        assert command.help, name


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    for field in fields(Settings):
        assert f"`{field.name}`" in text, field.name
        assert f"`{Settings.env_name(field.name)}`" in text, field.name


@pytest.mark.parametrize(
    "page",
    ["api.md", "cli.md", "configuration.md", "verification.md", "catalog.md", "streams.md"],
)
def test_linked_docs_exist(page: str) -> None:
    assert (DOCS / page).is_file()
    assert f"docs/{page}" in README.read_text()


def documented(text: str, method: str, path: str) -> bool:
    """Whether ``METHOD /path`` is written in ``text``, any ``{name}`` standing for a
    ``{parameter}``, and the path not merely the start of a longer one."""
    parts = re.split(r"\{[^}]+\}", path)
    pattern = r"\{[^}]+\}".join(re.escape(part) for part in parts)
    return re.search(rf"{method} {pattern}(?![\w/{{-])", text) is not None


def test_every_route_is_documented(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'd.db'}")
    app = create_app(AuditLog.open(settings=settings), settings)
    text = (DOCS / "api.md").read_text()
    missing = []
    routes = list(every_route(app.routes))
    assert ("/v1/events/{event_id}", frozenset({"GET"})) in routes  # the walk reaches routers
    for path, methods in routes:
        if path.startswith(("/v1", "/api", "/healthz", "/readyz", "/metrics")):
            for method in sorted(methods):
                if method != "HEAD" and not documented(text, method, path):
                    missing.append(f"{method} {path}")
    assert not missing, missing


def test_a_route_documented_only_by_its_prefix_is_missing() -> None:
    text = "`GET /v1/events` searches; `POST /v1/events` records."
    assert documented(text, "GET", "/v1/events")
    assert not documented(text, "GET", "/v1/events/{event_id}")
    assert not documented(text, "DELETE", "/v1/events")
    assert documented("`GET /v1/events/{id}`", "GET", "/v1/events/{event_id}")
    assert not documented("`GET /v1/events/export`", "GET", "/v1/events")
