"""Saved searches of the viewer and the API (issue 15).

Revision ID: 0008
Revises: 0007

One row per saved search. ``owner`` is the user id of a private search and ''
for a shared one, so one UNIQUE index keeps names unique among a tenant's shared
searches and among each user's private ones, and serves the menu's lookup
(the shared ones and one user's, by name).
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE saved_searches (
            tenant_id   TEXT NOT NULL REFERENCES tenants(id),
            id          TEXT NOT NULL,
            owner       TEXT NOT NULL DEFAULT '',
            name        TEXT NOT NULL,
            phrase      TEXT NOT NULL,
            created_by  TEXT NOT NULL,
            created_at  INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, owner, name)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE saved_searches")
