"""Streams: destinations, filters, formats and their delivery log (issue 17).

Revision ID: 0006
Revises: 0005

``streams`` holds a tenant's stream configurations: its name (unique in the
tenant), the destination as JSON, the format, the filter (a search phrase),
``active`` or ``paused``, and the webhook signing secrets as JSON (the current
one and any rotated out but still signing until their overlap window ends).
Each stream's cursor and lease are its ``log_consumers`` row (``stream:<id>``).

``stream_deliveries`` is the bounded delivery log: one row per attempt (a batch
or a test), keyed by a time-ordered id, the newest ``STREAM_DELIVERY_LOG`` kept
per stream. Both tables change: the runtime role may update and delete their
rows (``postgres_admin``).
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE streams (
            tenant_id    text COLLATE "C" NOT NULL REFERENCES tenants(id),
            id           text COLLATE "C" NOT NULL,
            name         text NOT NULL,
            destination  text NOT NULL,
            format       text NOT NULL,
            filter       text,
            status       text NOT NULL,
            secrets      text NOT NULL,
            created_at   bigint NOT NULL,
            updated_at   bigint NOT NULL,
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, name)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE stream_deliveries (
            tenant_id    text COLLATE "C" NOT NULL,
            stream_id    text COLLATE "C" NOT NULL,
            id           text COLLATE "C" NOT NULL,
            at           bigint NOT NULL,
            kind         text NOT NULL,
            first_seq    bigint,
            last_seq     bigint,
            events       integer NOT NULL,
            attempt      integer NOT NULL,
            delivered    boolean NOT NULL,
            status       integer,
            duration_us  bigint NOT NULL,
            error        text,
            PRIMARY KEY (tenant_id, stream_id, id),
            FOREIGN KEY (tenant_id, stream_id) REFERENCES streams(tenant_id, id) ON DELETE CASCADE
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE stream_deliveries")
    op.execute("DROP TABLE streams")
