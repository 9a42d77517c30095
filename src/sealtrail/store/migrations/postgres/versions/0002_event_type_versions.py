"""Event types are versioned: every registration is kept, the newest is current.

Revision ID: 0002
Revises: 0001

The runtime role may INSERT and SELECT versions, never change one (see
``sealtrail.store.postgres_admin``).
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def upgrade() -> None:
    bind = op.get_bind()
    s = _ident(bind.exec_driver_sql("SELECT current_schema()").scalar_one())
    for statement in (
        f"""
        CREATE TABLE {s}.event_type_versions (
            tenant_id       text COLLATE "C" NOT NULL REFERENCES {s}.tenants (id),
            name            text COLLATE "C" NOT NULL,
            version         integer NOT NULL,
            category        text NOT NULL,
            kind            text NOT NULL,
            description     text NOT NULL,
            expects_target  boolean NOT NULL DEFAULT false,
            resource_type   text,
            registered_at   bigint NOT NULL,
            PRIMARY KEY (tenant_id, name, version)
        )
        """,
        # Types registered before versions were kept become version 1, time unknown (0).
        f"""
        INSERT INTO {s}.event_type_versions (tenant_id, name, version, category, kind,
                                             description, expects_target, resource_type,
                                             registered_at)
        SELECT tenant_id, name, 1, category, kind, description, expects_target,
               resource_type, 0
        FROM {s}.event_types
        """,
    ):
        bind.exec_driver_sql(statement)
