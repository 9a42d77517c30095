"""The timeline's pre-aggregate: events counted per (tenant, hour, kind, outcome) (issue 15).

Revision ID: 0011
Revises: 0010

``event_counts`` holds, for each tenant, UTC hour, kind and outcome, how many
of the tenant's stored events fall in that hour with that kind and outcome.
``hour`` is the start of the hour in µs since the epoch (as ``occurred_at``).
The store keeps it exact in the transaction that changes ``events``: an
append adds its batch's counts (one upsert per distinct key), a prune takes
its deleted rows' counts off and drops a row that reaches zero. Erasure
changes neither kind, outcome nor time, so no count. ``GET
/v1/events/histogram`` reads it for whole hours when the only filters are
kind and outcome, so a year costs hours x kinds x outcomes rows, however many
events there are. This revision counts the events already stored.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

HOUR = 3_600_000_000

STATEMENTS = [
    """
    CREATE TABLE event_counts (
        tenant_id  TEXT NOT NULL REFERENCES tenants(id),
        hour       INTEGER NOT NULL,
        kind       TEXT NOT NULL,
        outcome    TEXT NOT NULL,
        events     INTEGER NOT NULL CHECK (events >= 0),
        PRIMARY KEY (tenant_id, kind, outcome, hour)
    ) WITHOUT ROWID
    """,
    f"""
    INSERT INTO event_counts (tenant_id, hour, kind, outcome, events)
    SELECT tenant_id, occurred_at - ((occurred_at % {HOUR}) + {HOUR}) % {HOUR}, kind, outcome,
           count(*)
    FROM events GROUP BY 1, 2, 3, 4
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE event_counts")
