"""API key lifecycle, per-tenant rate limits and their shared counters (issue 16).

Revision ID: 0009
Revises: 0008

``api_keys`` gains ``expires_at`` (a key past it answers like an unknown one),
``last_used_at`` (written at most once a minute per key and process, never per
request) and ``replaced_by`` (the key a rotation made; the old one keeps working
until its ``expires_at``, the end of the overlap). ``tenant_rate_limits`` holds
an operator's per-tenant overrides of the default limits; a NULL column keeps
the default.

``rate_counters`` is what several API processes share to count against one
limit: one row per counter (a key's or a tenant's writes or reads), holding the
current window's number, its hits and the previous window's hits — the sliding
window counter of the ``limits`` library, rolled over in place by one upsert, so
the table never grows past a few rows per key. Like every key of tenant data
its primary key leads with tenant_id. It is UNLOGGED: counters are worth no WAL,
and after a crash they start again from zero, which a limit can afford. The
runtime role may read and change it.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE api_keys ADD COLUMN expires_at bigint")
    op.execute("ALTER TABLE api_keys ADD COLUMN last_used_at bigint")
    op.execute('ALTER TABLE api_keys ADD COLUMN replaced_by text COLLATE "C"')
    op.execute(
        """
        CREATE TABLE tenant_rate_limits (
            tenant_id      text COLLATE "C" PRIMARY KEY REFERENCES tenants(id),
            key_writes     integer,
            tenant_writes  integer,
            key_reads      integer,
            tenant_reads   integer,
            updated_at     bigint NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE UNLOGGED TABLE rate_counters (
            tenant_id  text COLLATE "C" NOT NULL,
            name       text COLLATE "C" NOT NULL,
            window_no  bigint NOT NULL,
            hits       bigint NOT NULL,
            prev_hits  bigint NOT NULL,
            PRIMARY KEY (tenant_id, name)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE rate_counters")
    op.execute("DROP TABLE tenant_rate_limits")
    for column in ("replaced_by", "last_used_at", "expires_at"):
        op.execute(f"ALTER TABLE api_keys DROP COLUMN {column}")
