"""Saved searches of the viewer (issue 15).

Revision ID: 0008
Revises: 0007

Reserved: this revision changes nothing yet; the work that needs it fills it in.
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
