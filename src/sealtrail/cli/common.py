"""Options every command shares, and how records are printed."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
import orjson

from sealtrail.audit_log import AuditLog
from sealtrail.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def database_option(func: F) -> F:
    return click.option(
        "--database",
        "database",
        metavar="URL",
        default=None,
        help="Database URL (default: $SEALTRAIL_DATABASE_URL or sqlite:///./sealtrail.db).",
    )(func)


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config",
        metavar="FILE",
        default=None,
        type=click.Path(dir_okay=False),
        help="TOML settings file (default: $SEALTRAIL_CONFIG or ./sealtrail.toml).",
    )(func)


def json_option(func: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print exactly one JSON document on stdout."
    )(func)


def load_settings(database: str | None, config: str | None = None, **overrides: Any) -> Settings:
    return Settings.load({"database_url": database, **overrides}, config_file=config)


def open_log(settings: Settings, *, migrated: bool = True, serving: bool = False) -> AuditLog:
    """The log the settings name; with ``migrated``, refuse a database without the schema
    (a mistyped path or an empty database) before anything is read or created. ``serving``
    connects as the API processes do (``runtime_database_url`` when set)."""
    log = AuditLog.open(settings=settings, serving=serving)
    if migrated:
        try:
            log.require_schema()
        except BaseException:
            log.close()
            raise
    return log


def print_json(document: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """``1 batch``, ``2 batches``: a number with its noun in the right form."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def show_progress() -> bool:
    """Progress bars only on a terminal; pipes and CI get plain output."""
    return sys.stdout.isatty()
