"""A resource type's events in time order: ``events_by_resource_type`` replaces
``events_by_resource``.

Revision ID: 0013
Revises: 0012

``events_by_resource`` keyed ``(tenant_id, resource_type, resource_id,
occurred_at, seq)``: a type's events sorted by resource id first, so a page
of one type had to read every match and sort them, or walk the time index
testing each row. Keyed ``(tenant_id, resource_type, occurred_at, seq)``,
like every other filter's index, it reads the page in order and stops. A
type and an id together are read through ``events_by_resource_id`` (one
resource's events in time order) or this one, as the planner's statistics
say. Created on the partitioned table, so on every month partition and on
those made later. Same number of indexes, and one column narrower.
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX events_by_resource")
    op.execute(
        "CREATE INDEX events_by_resource_type"
        " ON events (tenant_id, resource_type, occurred_at, seq)"
        " WHERE resource_type IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX events_by_resource_type")
    op.execute(
        "CREATE INDEX events_by_resource"
        " ON events (tenant_id, resource_type, resource_id, occurred_at, seq)"
        " WHERE resource_type IS NOT NULL"
    )
