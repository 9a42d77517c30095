"""Retention policies, legal holds and pruned ranges (issue 13).

Revision ID: 0005
Revises: 0004

Reserved: this revision changes nothing yet; the work that needs it fills it in.
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
