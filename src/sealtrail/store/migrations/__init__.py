"""Versioned schema migrations, run by Alembic (``sealtrail migrate``).

Each engine has its own script directory because their DDL shares little
(FTS5 against tsvector, triggers, partitions); revisions are raw SQL so the
schema is exactly what the stores query.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

_HERE = Path(__file__).resolve().parent


def _config(engine: str, connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE / engine))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: str, connection: Connection) -> list[str]:
    """Apply every pending revision; return the ids applied, oldest first."""
    before = current_revision(connection)
    config = _config(engine, connection)
    command.upgrade(config, "head")
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(config)
    applied: list[str] = []
    for rev in script.walk_revisions(base="base", head="head"):
        if rev.revision == before:
            break
        applied.append(rev.revision)
    return list(reversed(applied))


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def revisions(engine: str) -> list[str]:
    """Every revision of ``engine``'s script directory, oldest first (the last is head)."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(_HERE / engine))
    script = ScriptDirectory.from_config(config)
    return [rev.revision for rev in reversed(list(script.walk_revisions(base="base", head="head")))]
