"""Log consumers: a durable cursor and a lease per background reader of a tenant's log.

Revision ID: 0003
Revises: 0002

A consumer (a stream's delivery, later a detection) reads its tenant's log by
``seq``. ``next_seq`` is the first seq it has not handled; ``lease_owner`` and
``lease_until`` (microseconds) say which process may handle it now. The
primary key is the one index: every statement names (tenant_id, name).
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATEMENTS = [
    """
    CREATE TABLE log_consumers (
        tenant_id      TEXT NOT NULL REFERENCES tenants(id),
        name           TEXT NOT NULL,
        next_seq       INTEGER NOT NULL DEFAULT 0,
        lease_owner    TEXT,
        lease_until    INTEGER NOT NULL DEFAULT 0,
        attempts       INTEGER NOT NULL DEFAULT 0,
        retry_at       INTEGER NOT NULL DEFAULT 0,
        failing_since  INTEGER,
        failing        INTEGER NOT NULL DEFAULT 0,
        last_error     TEXT,
        updated_at     INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, name)
    ) WITHOUT ROWID
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
