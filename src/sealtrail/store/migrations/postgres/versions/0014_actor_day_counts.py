"""One actor's events counted per UTC day: ``actor_day_counts``.

Revision ID: 0014
Revises: 0013

``actor_day_counts`` holds, for each tenant, actor id and UTC day (``day``
is the start of the day in µs since the epoch), how many of the tenant's
stored events that actor made that day. An exact count of one actor's events
then sums at most a row per day the actor was active, and counts in
``events`` only the clipped first and last day of its time range, instead of
reading every one of the actor's index entries (483 k for the busiest actor
of the benchmark corpus: django-auditlog counted it faster from its smaller,
deduplicated index). Not partitioned: read through its primary key.

The store keeps it exact in the transaction that changes ``events``, as it
keeps ``event_counts``: an append adds its batch's counts (one statement,
one row per distinct actor and day; the runtime role may INSERT and UPDATE
``events`` of it), and the two delete paths, both replaced here, take their
rows' counts off and drop a row that reaches zero: ``sealtrail_prune`` (the
rows of one batch, in the statement that deletes them) and
``sealtrail_drop_pruned_partitions`` (a whole partition's rows, before it is
dropped). Erasure never clears ``actor.id``, so no count changes. This
revision counts the events already stored; its downgrade restores both
functions as revision 0011 made them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

HOUR = 3_600_000_000
DAY = 86_400_000_000
# The start of occurred_at's UTC hour and day (mod keeps the dividend's sign, as % does).
_HOUR_OF = f"occurred_at - mod(mod(occurred_at, {HOUR}) + {HOUR}, {HOUR})"
_DAY_OF = f"occurred_at - mod(mod(occurred_at, {DAY}) + {DAY}, {DAY})"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _statements(s: str) -> list[str]:
    return [
        f"""
        CREATE TABLE {s}.actor_day_counts (
            tenant_id  text COLLATE "C" NOT NULL REFERENCES {s}.tenants (id),
            actor_id   text COLLATE "C" NOT NULL,
            day        bigint NOT NULL,
            events     bigint NOT NULL CHECK (events >= 0),
            PRIMARY KEY (tenant_id, actor_id, day)
        )
        """,
        f"""
        INSERT INTO {s}.actor_day_counts (tenant_id, actor_id, day, events)
        SELECT tenant_id, actor_id, {_DAY_OF}, count(*)
        FROM {s}.events GROUP BY 1, 2, 3
        """,
        f"""
        CREATE OR REPLACE FUNCTION {s}.sealtrail_prune(p_tenant text, p_limit integer)
            RETURNS integer
            LANGUAGE plpgsql SECURITY DEFINER
            SET search_path = {s}, pg_catalog, pg_temp
        AS $$
        DECLARE
            cut bigint;
            seqs bigint[];
            times bigint[];
            leaves bytea[];
            zero_hours bigint[];
            zero_kinds text[];
            zero_outcomes text[];
            zero_actors text[];
            zero_days bigint[];
        BEGIN
            IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100000 THEN
                RAISE EXCEPTION 'a prune batch is 1..100000 rows, not %', p_limit;
            END IF;
            SELECT coalesce(max(below), 0) INTO cut FROM prunes WHERE tenant_id = p_tenant;
            SELECT array_agg(seq ORDER BY seq), array_agg(occurred_at ORDER BY seq),
                   array_agg(leaf_hash ORDER BY seq)
                INTO seqs, times, leaves
                FROM (SELECT seq, occurred_at, leaf_hash FROM event_ids
                      WHERE tenant_id = p_tenant AND seq < cut ORDER BY seq LIMIT p_limit) b;
            IF seqs IS NULL THEN
                RETURN 0;
            END IF;
            INSERT INTO tree_nodes (tenant_id, level, idx, hash)
                SELECT p_tenant, 0, u.seq, u.leaf FROM unnest(seqs, leaves) AS u (seq, leaf)
                ON CONFLICT (tenant_id, level, idx) DO NOTHING;
            -- The deleted rows leave both counts in the same statement.
            WITH gone AS (
                DELETE FROM events e USING unnest(seqs, times) AS u (seq, at)
                    WHERE e.tenant_id = p_tenant AND e.seq = u.seq AND e.occurred_at = u.at
                    RETURNING e.occurred_at, e.kind, e.outcome, e.actor_id
            ), counted AS (
                SELECT {_HOUR_OF} AS hour, kind, outcome, count(*) AS n
                FROM gone GROUP BY 1, 2, 3
            ), taken AS (
                UPDATE event_counts c SET events = c.events - counted.n FROM counted
                    WHERE c.tenant_id = p_tenant AND c.hour = counted.hour
                      AND c.kind = counted.kind AND c.outcome = counted.outcome
                    RETURNING c.hour, c.kind, c.outcome, c.events
            ), by_actor AS (
                SELECT actor_id, {_DAY_OF} AS day, count(*) AS n FROM gone GROUP BY 1, 2
            ), actor_taken AS (
                UPDATE actor_day_counts a SET events = a.events - by_actor.n FROM by_actor
                    WHERE a.tenant_id = p_tenant AND a.actor_id = by_actor.actor_id
                      AND a.day = by_actor.day
                    RETURNING a.actor_id, a.day, a.events
            )
            -- Each array in the order of its table's key, so they line up.
            SELECT (SELECT array_agg(hour ORDER BY hour, kind, outcome) FROM taken
                        WHERE events = 0),
                   (SELECT array_agg(kind ORDER BY hour, kind, outcome) FROM taken
                        WHERE events = 0),
                   (SELECT array_agg(outcome ORDER BY hour, kind, outcome) FROM taken
                        WHERE events = 0),
                   (SELECT array_agg(actor_id ORDER BY actor_id, day) FROM actor_taken
                        WHERE events = 0),
                   (SELECT array_agg(day ORDER BY actor_id, day) FROM actor_taken
                        WHERE events = 0)
                INTO zero_hours, zero_kinds, zero_outcomes, zero_actors, zero_days;
            IF zero_hours IS NOT NULL THEN
                DELETE FROM event_counts c
                    USING unnest(zero_hours, zero_kinds, zero_outcomes) AS z (hour, kind, outcome)
                    WHERE c.tenant_id = p_tenant AND c.hour = z.hour AND c.kind = z.kind
                      AND c.outcome = z.outcome AND c.events = 0;
            END IF;
            IF zero_actors IS NOT NULL THEN
                DELETE FROM actor_day_counts a
                    USING unnest(zero_actors, zero_days) AS z (actor_id, day)
                    WHERE a.tenant_id = p_tenant AND a.actor_id = z.actor_id AND a.day = z.day
                      AND a.events = 0;
            END IF;
            DELETE FROM event_ids WHERE tenant_id = p_tenant AND seq = ANY (seqs);
            RETURN cardinality(seqs);
        END
        $$
        """,
        f"""
        CREATE OR REPLACE FUNCTION {s}.sealtrail_drop_pruned_partitions() RETURNS text[]
            LANGUAGE plpgsql SECURITY DEFINER
            SET search_path = {s}, pg_catalog, pg_temp
        AS $$
        DECLARE
            part record;
            this_month bigint := (extract(epoch FROM date_trunc('month', now() AT TIME ZONE 'UTC'))
                                  * 1000000)::bigint;
            blocked boolean;
            dropped text[] := '{{}}';
        BEGIN
            FOR part IN
                SELECT c.relname AS name,
                       (regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                     'TO \\(''?(-?\\d+)''?\\)'))[1]::bigint AS upper
                FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'events'::regclass AND c.relname <> 'events_default'
                ORDER BY c.relname
            LOOP
                CONTINUE WHEN part.upper IS NULL OR part.upper > this_month;
                -- No insert may reach it while it is checked and dropped.
                EXECUTE format('LOCK TABLE %I IN SHARE ROW EXCLUSIVE MODE', part.name);
                EXECUTE format(
                    'SELECT NOT EXISTS (SELECT 1 FROM %I) OR EXISTS (SELECT 1 FROM %I p'
                    ' WHERE p.seq >= coalesce((SELECT max(below) FROM prunes'
                    ' WHERE tenant_id = p.tenant_id), 0)'
                    ' OR NOT EXISTS (SELECT 1 FROM tree_nodes t WHERE t.tenant_id = p.tenant_id'
                    ' AND t.level = 0 AND t.idx = p.seq AND t.hash = p.leaf_hash))',
                    part.name, part.name) INTO blocked;
                CONTINUE WHEN blocked;
                -- Its rows leave both counts with it.
                EXECUTE format(
                    'WITH counted AS (SELECT tenant_id, {_HOUR_OF} AS hour, kind, outcome,'
                    ' count(*) AS n FROM %I GROUP BY 1, 2, 3, 4)'
                    ' UPDATE event_counts c SET events = c.events - counted.n'
                    ' FROM counted WHERE c.tenant_id = counted.tenant_id'
                    ' AND c.hour = counted.hour AND c.kind = counted.kind'
                    ' AND c.outcome = counted.outcome', part.name);
                EXECUTE format(
                    'WITH counted AS (SELECT tenant_id, actor_id, {_DAY_OF} AS day,'
                    ' count(*) AS n FROM %I GROUP BY 1, 2, 3)'
                    ' UPDATE actor_day_counts a SET events = a.events - counted.n'
                    ' FROM counted WHERE a.tenant_id = counted.tenant_id'
                    ' AND a.actor_id = counted.actor_id AND a.day = counted.day', part.name);
                -- A month is at most 31 days: the rows that reached zero lie in these hours.
                DELETE FROM event_counts c
                    WHERE c.events = 0 AND c.hour >= part.upper - 32 * 86400000000::bigint
                      AND c.hour < part.upper;
                DELETE FROM actor_day_counts a
                    WHERE a.events = 0 AND a.day >= part.upper - 32 * 86400000000::bigint
                      AND a.day < part.upper;
                EXECUTE format('ALTER TABLE events DETACH PARTITION %I', part.name);
                EXECUTE format('DROP TABLE %I', part.name);
                dropped := dropped || part.name::text;
            END LOOP;
            RETURN dropped;
        END
        $$
        """,
    ]


def _run(statements: list[str]) -> None:
    # Through the driver directly: PL/pgSQL bodies hold '%' and ':'.
    driver = op.get_bind().connection.driver_connection
    assert driver is not None
    for statement in statements:
        driver.execute(statement)


def _schema() -> str:
    return _ident(op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one())


def upgrade() -> None:
    _run(_statements(_schema()))


def downgrade() -> None:
    # Revision 0011's functions, read from its file: the versions are not a package.
    path = Path(__file__).with_name("0011_event_counts.py")
    spec = importlib.util.spec_from_file_location("sealtrail_migration_0011", path)
    assert spec is not None and spec.loader is not None
    earlier = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(earlier)
    s = _schema()
    functions = [f for f in earlier._statements(s) if "CREATE OR REPLACE FUNCTION" in f]
    _run([*functions, f"DROP TABLE {s}.actor_day_counts"])
