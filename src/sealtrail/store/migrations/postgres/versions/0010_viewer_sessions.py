"""Server-side viewer sessions, and the origins a tenant lets frame its viewer (issue 16).

Revision ID: 0010
Revises: 0009

``viewer_sessions`` holds one row per minted session: the user, role and
accounts it reads as, when it ends, and only the SHA-256 hashes of its link's
one-time secret and of its cookie's secret. Redeeming the link sets
``redeemed_at`` and ``cookie_hash`` in one conditional UPDATE (so a link opens
at most one browser); signing out or revoking sets ``revoked_at``. Unlike the
log's own tables these rows change: the runtime role may update the columns
redemption and revocation write (``postgres_admin``). The primary key leads with
tenant_id like every key; the second index finds a user's sessions.

``tenants.frame_ancestors`` lists, space-separated, the origins allowed to frame
the tenant's viewer (empty: only the viewer's own origin).

``erasures`` and ``legal_holds`` get the primary key (tenant_id, id): they were the
tables of tenant data whose key did not lead with the tenant
(tests/store/test_citus_rules.py).
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE viewer_sessions (
            tenant_id        text COLLATE "C" NOT NULL REFERENCES tenants(id),
            id               text COLLATE "C" NOT NULL,
            user_id          text COLLATE "C" NOT NULL,
            user_email       text,
            user_name        text,
            role             text NOT NULL,
            account_ids      text,
            created_at       bigint NOT NULL,
            expires_at       bigint NOT NULL,
            link_hash        bytea NOT NULL,
            link_expires_at  bigint NOT NULL,
            cookie_hash      bytea,
            redeemed_at      bigint,
            revoked_at       bigint,
            revoked_by       text,
            PRIMARY KEY (tenant_id, id)
        )
        """
    )
    op.execute(
        "CREATE INDEX viewer_sessions_by_user ON viewer_sessions (tenant_id, user_id, created_at)"
    )
    op.execute("ALTER TABLE tenants ADD COLUMN frame_ancestors text NOT NULL DEFAULT ''")
    # Every key of tenant data leads with tenant_id (docs/operations.md, Citus): the
    # erasures' too, and the store names the tenant in every statement on them.
    op.execute(
        "ALTER TABLE erasures DROP CONSTRAINT erasures_pkey, ADD PRIMARY KEY (tenant_id, id)"
    )
    op.execute(
        "ALTER TABLE legal_holds DROP CONSTRAINT legal_holds_pkey, ADD PRIMARY KEY (tenant_id, id)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE viewer_sessions")
    op.execute("ALTER TABLE tenants DROP COLUMN frame_ancestors")
    op.execute("ALTER TABLE erasures DROP CONSTRAINT erasures_pkey, ADD PRIMARY KEY (id)")
    op.execute("ALTER TABLE legal_holds DROP CONSTRAINT legal_holds_pkey, ADD PRIMARY KEY (id)")
