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

A trigger on ``event_counts`` keeps it: every change to an hour's count (the
append's upsert, ``sealtrail_prune``'s subtraction, the partition drop's,
the removal of a row that reached zero) changes its day's count by as much,
in the same statement, so it cannot drift from the hours whatever path
changed them, and a day that reaches zero is removed. The function is
SECURITY DEFINER: the runtime role only reads the table (its appends change
it through the trigger). This revision sums the hours already counted.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

DAY = 86_400_000_000


def _day_of(hour: str) -> str:
    """The start of the UTC day that holds ``hour`` (mod keeps the dividend's sign)."""
    return f"{hour} - mod(mod({hour}, {DAY}) + {DAY}, {DAY})"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _statements(s: str) -> list[str]:
    return [
        f"""
        CREATE TABLE {s}.event_day_counts (
            tenant_id  text COLLATE "C" NOT NULL REFERENCES {s}.tenants (id),
            day        bigint NOT NULL,
            kind       text COLLATE "C" NOT NULL,
            outcome    text COLLATE "C" NOT NULL,
            events     bigint NOT NULL CHECK (events >= 0),
            PRIMARY KEY (tenant_id, day, kind, outcome)
        )
        """,
        f"""
        INSERT INTO {s}.event_day_counts (tenant_id, day, kind, outcome, events)
        SELECT tenant_id, {_day_of("hour")}, kind, outcome, sum(events)
        FROM {s}.event_counts GROUP BY 1, 2, 3, 4 HAVING sum(events) > 0
        """,
        f"""
        CREATE OR REPLACE FUNCTION {s}.sealtrail_count_day() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER
            SET search_path = {s}, pg_catalog, pg_temp
        AS $$
        DECLARE
            hour_row event_counts;
            delta bigint;
            remaining bigint;
        BEGIN
            IF TG_OP = 'INSERT' THEN
                hour_row := NEW;
                delta := NEW.events;
            ELSIF TG_OP = 'UPDATE' THEN
                hour_row := NEW;
                delta := NEW.events - OLD.events;
            ELSE
                hour_row := OLD;
                delta := -OLD.events;
            END IF;
            IF delta > 0 THEN
                INSERT INTO event_day_counts AS d (tenant_id, day, kind, outcome, events)
                    VALUES (hour_row.tenant_id, {_day_of("hour_row.hour")}, hour_row.kind,
                            hour_row.outcome, delta)
                    ON CONFLICT (tenant_id, day, kind, outcome)
                    DO UPDATE SET events = d.events + excluded.events;
            ELSIF delta < 0 THEN
                UPDATE event_day_counts SET events = events + delta
                    WHERE tenant_id = hour_row.tenant_id
                      AND day = {_day_of("hour_row.hour")}
                      AND kind = hour_row.kind AND outcome = hour_row.outcome
                    RETURNING events INTO remaining;
                IF remaining = 0 THEN  -- a day that reaches zero goes, as its hours do
                    DELETE FROM event_day_counts
                        WHERE tenant_id = hour_row.tenant_id
                          AND day = {_day_of("hour_row.hour")}
                          AND kind = hour_row.kind AND outcome = hour_row.outcome;
                END IF;
            END IF;
            RETURN NULL;
        END
        $$
        """,
        f"""
        CREATE TRIGGER event_counts_by_day
            AFTER INSERT OR UPDATE OF events OR DELETE ON {s}.event_counts
            FOR EACH ROW EXECUTE FUNCTION {s}.sealtrail_count_day()
        """,
    ]


def upgrade() -> None:
    bind = op.get_bind()
    s = _ident(bind.exec_driver_sql("SELECT current_schema()").scalar_one())
    # Through the driver directly: the PL/pgSQL body holds '%' and ':'.
    driver = bind.connection.driver_connection
    assert driver is not None
    for statement in _statements(s):
        driver.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER event_counts_by_day ON event_counts")
    op.execute("DROP FUNCTION sealtrail_count_day()")
    op.execute("DROP TABLE event_day_counts")
