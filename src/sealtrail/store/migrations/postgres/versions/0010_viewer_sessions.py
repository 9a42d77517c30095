"""Server-side viewer sessions (issue 16).

Revision ID: 0010
Revises: 0009

Reserved: this revision changes nothing yet; the work that needs it fills it in.
"""

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
