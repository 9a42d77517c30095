"""Server-side viewer sessions, and the origins a tenant lets frame its viewer (issue 16).

Revision ID: 0010
Revises: 0009

``viewer_sessions`` holds one row per minted session: the user, role and
accounts it reads as, when it ends, and only the SHA-256 hashes of its link's
one-time secret and of its cookie's secret. Redeeming the link sets
``redeemed_at`` and ``cookie_hash`` in one conditional UPDATE (so a link opens
at most one browser); signing out or revoking sets ``revoked_at``. The primary
key leads with tenant_id like every key; the second index finds a user's
sessions (revocation by user id).

``tenants.frame_ancestors`` lists, space-separated, the origins allowed to frame
the tenant's viewer (empty: only the viewer's own origin).
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

STATEMENTS = [
    """
    CREATE TABLE viewer_sessions (
        tenant_id        TEXT NOT NULL REFERENCES tenants(id),
        id               TEXT NOT NULL,
        user_id          TEXT NOT NULL,
        user_email       TEXT,
        user_name        TEXT,
        role             TEXT NOT NULL,
        account_ids      TEXT,
        created_at       INTEGER NOT NULL,
        expires_at       INTEGER NOT NULL,
        link_hash        BLOB NOT NULL,
        link_expires_at  INTEGER NOT NULL,
        cookie_hash      BLOB,
        redeemed_at      INTEGER,
        revoked_at       INTEGER,
        revoked_by       TEXT,
        PRIMARY KEY (tenant_id, id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX viewer_sessions_by_user ON viewer_sessions (tenant_id, user_id, created_at)",
    "ALTER TABLE tenants ADD COLUMN frame_ancestors TEXT NOT NULL DEFAULT ''",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE viewer_sessions")
    op.execute("ALTER TABLE tenants DROP COLUMN frame_ancestors")
