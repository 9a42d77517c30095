"""Detections: rules, their state and alerts (issue 18).

Revision ID: 0007
Revises: 0006

Reserved: this revision changes nothing yet; the work that needs it fills it in.
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
