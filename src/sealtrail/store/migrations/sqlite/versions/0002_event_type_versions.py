"""Event types are versioned: every registration is kept, the newest is current.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STATEMENTS = [
    """
    CREATE TABLE event_type_versions (
        tenant_id       TEXT NOT NULL REFERENCES tenants(id),
        name            TEXT NOT NULL,
        version         INTEGER NOT NULL,
        category        TEXT NOT NULL,
        kind            TEXT NOT NULL,
        description     TEXT NOT NULL,
        expects_target  INTEGER NOT NULL DEFAULT 0,
        resource_type   TEXT,
        registered_at   INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, name, version)
    ) WITHOUT ROWID
    """,
    # Types registered before versions were kept become version 1, time unknown (0).
    """
    INSERT INTO event_type_versions (tenant_id, name, version, category, kind, description,
                                     expects_target, resource_type, registered_at)
    SELECT tenant_id, name, 1, category, kind, description, expects_target, resource_type, 0
    FROM event_types
    """,
    *(
        f"""
        CREATE TRIGGER event_type_versions_refuse_{verb.lower()}
        BEFORE {verb} ON event_type_versions
        BEGIN SELECT RAISE(ABORT, 'event_type_versions are append-only: {verb} refused'); END
        """
        for verb in ("UPDATE", "DELETE")
    ),
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
