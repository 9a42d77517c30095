"""API key lifecycle and per-tenant rate limits (issue 16).

Revision ID: 0009
Revises: 0008

``api_keys`` gains ``expires_at`` (a key past it answers like an unknown one),
``last_used_at`` (written at most once a minute per key and process, never per
request) and ``replaced_by`` (the key a rotation made; the old one keeps working
until its ``expires_at``, the end of the overlap). ``tenant_rate_limits`` holds
an operator's per-tenant overrides of the default limits; a NULL column keeps
the default. On SQLite the rate-limit counters live in the serving process, so
there is no counter table here (docs/operations.md says why that is enough).
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

STATEMENTS = [
    "ALTER TABLE api_keys ADD COLUMN expires_at INTEGER",
    "ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER",
    "ALTER TABLE api_keys ADD COLUMN replaced_by TEXT",
    """
    CREATE TABLE tenant_rate_limits (
        tenant_id      TEXT NOT NULL PRIMARY KEY REFERENCES tenants(id),
        key_writes     INTEGER,
        tenant_writes  INTEGER,
        key_reads      INTEGER,
        tenant_reads   INTEGER,
        updated_at     INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE tenant_rate_limits")
    for column in ("replaced_by", "last_used_at", "expires_at"):
        op.execute(f"ALTER TABLE api_keys DROP COLUMN {column}")
