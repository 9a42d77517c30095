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
per stream.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STATEMENTS = [
    """
    CREATE TABLE streams (
        tenant_id    TEXT NOT NULL REFERENCES tenants(id),
        id           TEXT NOT NULL,
        name         TEXT NOT NULL,
        destination  TEXT NOT NULL,
        format       TEXT NOT NULL,
        filter       TEXT,
        status       TEXT NOT NULL,
        secrets      TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, name)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE stream_deliveries (
        tenant_id    TEXT NOT NULL,
        stream_id    TEXT NOT NULL,
        id           TEXT NOT NULL,
        at           INTEGER NOT NULL,
        kind         TEXT NOT NULL,
        first_seq    INTEGER,
        last_seq     INTEGER,
        events       INTEGER NOT NULL,
        attempt      INTEGER NOT NULL,
        delivered    INTEGER NOT NULL,
        status       INTEGER,
        duration_us  INTEGER NOT NULL,
        error        TEXT,
        PRIMARY KEY (tenant_id, stream_id, id),
        FOREIGN KEY (tenant_id, stream_id) REFERENCES streams(tenant_id, id) ON DELETE CASCADE
    ) WITHOUT ROWID
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE stream_deliveries")
    op.execute("DROP TABLE streams")
