"""The timeline's day rollup: ``event_counts`` summed per (tenant, UTC day, kind, outcome).

Revision ID: 0012
Revises: 0011

``event_day_counts`` holds, for each tenant, UTC day, kind and outcome, the
sum of that day's 24 hours in ``event_counts`` (``day`` is the start of the
day in µs since the epoch). A year of a tenant is at most 365 x kinds x
outcomes rows, 24 times fewer than its hours, so the histogram sums a
bucket's whole days here and only the hours left at either end from
``event_counts``. Its key leads with the day, so a bucket's days of every
kind and outcome are one range of it.

Triggers on ``event_counts`` keep it: every change to an hour's count
(the append's upsert, the prune's subtraction, the removal of a row that
reached zero) changes its day's count by as much, in the same statement, so
it cannot drift from the hours whatever path changed them, and a day that
reaches zero is removed. This revision sums the hours already counted.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

DAY = 86_400_000_000


def _day_of(hour: str) -> str:
    """The start of the UTC day that holds ``hour`` (% keeps the dividend's sign)."""
    return f"{hour} - (({hour} % {DAY}) + {DAY}) % {DAY}"


def _change(row: str, delta: str) -> str:
    """Add ``delta`` to the day of ``row`` (NEW or OLD), and drop the day if it is zero."""
    where = (
        f"tenant_id = {row}.tenant_id AND day = {_day_of(f'{row}.hour')}"
        f" AND kind = {row}.kind AND outcome = {row}.outcome"
    )
    return (
        f"UPDATE event_day_counts SET events = events + ({delta}) WHERE {where};"
        f" DELETE FROM event_day_counts WHERE {where} AND events = 0;"
    )


STATEMENTS = [
    """
    CREATE TABLE event_day_counts (
        tenant_id  TEXT NOT NULL REFERENCES tenants(id),
        day        INTEGER NOT NULL,
        kind       TEXT NOT NULL,
        outcome    TEXT NOT NULL,
        events     INTEGER NOT NULL CHECK (events >= 0),
        PRIMARY KEY (tenant_id, day, kind, outcome)
    ) WITHOUT ROWID
    """,
    f"""
    INSERT INTO event_day_counts (tenant_id, day, kind, outcome, events)
    SELECT tenant_id, {_day_of("hour")}, kind, outcome, sum(events)
    FROM event_counts GROUP BY 1, 2, 3, 4 HAVING sum(events) > 0
    """,
    f"""
    CREATE TRIGGER event_counts_add_day AFTER INSERT ON event_counts BEGIN
        INSERT INTO event_day_counts (tenant_id, day, kind, outcome, events)
        VALUES (NEW.tenant_id, {_day_of("NEW.hour")}, NEW.kind, NEW.outcome, NEW.events)
        ON CONFLICT (tenant_id, day, kind, outcome)
        DO UPDATE SET events = events + excluded.events;
    END
    """,
    f"""
    CREATE TRIGGER event_counts_change_day AFTER UPDATE OF events ON event_counts BEGIN
        {_change("NEW", "NEW.events - OLD.events")}
    END
    """,
    f"""
    CREATE TRIGGER event_counts_take_day AFTER DELETE ON event_counts BEGIN
        {_change("OLD", "-OLD.events")}
    END
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for trigger in ("event_counts_add_day", "event_counts_change_day", "event_counts_take_day"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute("DROP TABLE event_day_counts")
