"""Streams: destinations, filters, formats and their delivery log (issue 17).

Revision ID: 0006
Revises: 0005

Reserved: this revision changes nothing yet; the work that needs it fills it in.
"""

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
