"""Log consumers: a durable cursor and a lease per background reader of a tenant's log.

Revision ID: 0003
Revises: 0002

A consumer (a stream's delivery, later a detection) reads its tenant's log by
``seq``. ``next_seq`` is the first seq it has not handled; ``lease_owner`` and
``lease_until`` (microseconds) say which process may handle it now. Unlike the
log's own tables these rows change: the runtime role may update and delete them
(``postgres_admin``). The primary key leads with tenant_id like every key.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE log_consumers (
            tenant_id      text COLLATE "C" NOT NULL REFERENCES tenants(id),
            name           text COLLATE "C" NOT NULL,
            next_seq       bigint NOT NULL DEFAULT 0,
            lease_owner    text,
            lease_until    bigint NOT NULL DEFAULT 0,
            attempts       integer NOT NULL DEFAULT 0,
            retry_at       bigint NOT NULL DEFAULT 0,
            failing_since  bigint,
            failing        boolean NOT NULL DEFAULT false,
            last_error     text,
            updated_at     bigint NOT NULL,
            PRIMARY KEY (tenant_id, name)
        )
        """
    )
