"""API key lifecycle and rate limits (issue 16).

Revision ID: 0009
Revises: 0008

Reserved: this revision changes nothing yet; the work that needs it fills it in.
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
