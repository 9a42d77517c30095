"""The timeline's pre-aggregate: events counted per (tenant, hour, kind, outcome) (issue 15).

Revision ID: 0011
Revises: 0010

``event_counts`` holds, for each tenant, UTC hour, kind and outcome, how many
of the tenant's stored events fall in that hour with that kind and outcome.
``hour`` is the start of the hour in µs since the epoch (as ``occurred_at``).
It is not partitioned: a tenant's year is at most hours x kinds x outcomes
rows, read through the primary key. The store keeps it exact in the
transaction that changes ``events``: an append adds its batch's counts (one
upsert per distinct key; the runtime role may INSERT and UPDATE ``events``
of it), and the two delete paths take their rows' counts off and drop a row
that reaches zero: ``sealtrail_prune`` (the rows of one batch) and
``sealtrail_drop_pruned_partitions`` (a whole partition's rows, before it is
dropped), both replaced here. Erasure changes neither kind, outcome nor time,
so no count. ``GET /v1/events/histogram`` reads it for whole hours when the
only filters are kind and outcome. This revision counts the events already
stored.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

HOUR = 3_600_000_000
# The start of occurred_at's UTC hour (mod keeps the dividend's sign, as % does).
_HOUR_OF = f"occurred_at - mod(mod(occurred_at, {HOUR}) + {HOUR}, {HOUR})"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _statements(s: str) -> list[str]:
    return [
        f"""
        CREATE TABLE {s}.event_counts (
            tenant_id  text COLLATE "C" NOT NULL REFERENCES {s}.tenants (id),
            hour       bigint NOT NULL,
            kind       text COLLATE "C" NOT NULL,
            outcome    text COLLATE "C" NOT NULL,
            events     bigint NOT NULL CHECK (events >= 0),
            PRIMARY KEY (tenant_id, kind, outcome, hour)
        )
        """,
        f"""
        INSERT INTO {s}.event_counts (tenant_id, hour, kind, outcome, events)
        SELECT tenant_id, {_HOUR_OF}, kind, outcome, count(*)
        FROM {s}.events GROUP BY 1, 2, 3, 4
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
            -- The deleted rows leave the timeline's counts in the same statement.
            WITH gone AS (
                DELETE FROM events e USING unnest(seqs, times) AS u (seq, at)
                    WHERE e.tenant_id = p_tenant AND e.seq = u.seq AND e.occurred_at = u.at
                    RETURNING e.occurred_at, e.kind, e.outcome
            ), counted AS (
                SELECT {_HOUR_OF} AS hour, kind, outcome, count(*) AS n
                FROM gone GROUP BY 1, 2, 3
            ), taken AS (
                UPDATE event_counts c SET events = c.events - counted.n FROM counted
                    WHERE c.tenant_id = p_tenant AND c.hour = counted.hour
                      AND c.kind = counted.kind AND c.outcome = counted.outcome
                    RETURNING c.hour, c.kind, c.outcome, c.events
            )
            SELECT array_agg(hour), array_agg(kind), array_agg(outcome)
                INTO zero_hours, zero_kinds, zero_outcomes
                FROM taken WHERE events = 0;
            IF zero_hours IS NOT NULL THEN
                DELETE FROM event_counts c
                    USING unnest(zero_hours, zero_kinds, zero_outcomes) AS z (hour, kind, outcome)
                    WHERE c.tenant_id = p_tenant AND c.hour = z.hour AND c.kind = z.kind
                      AND c.outcome = z.outcome AND c.events = 0;
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
                -- Its rows leave the timeline's counts with it.
                EXECUTE format(
                    'WITH counted AS (SELECT tenant_id, {_HOUR_OF} AS hour, kind, outcome,'
                    ' count(*) AS n FROM %I GROUP BY 1, 2, 3, 4)'
                    ' UPDATE event_counts c SET events = c.events - counted.n'
                    ' FROM counted WHERE c.tenant_id = counted.tenant_id'
                    ' AND c.hour = counted.hour AND c.kind = counted.kind'
                    ' AND c.outcome = counted.outcome', part.name);
                -- A month is at most 31 days: the rows that reached zero lie in these hours.
                DELETE FROM event_counts c
                    WHERE c.events = 0 AND c.hour >= part.upper - 32 * 86400000000::bigint
                      AND c.hour < part.upper;
                EXECUTE format('ALTER TABLE events DETACH PARTITION %I', part.name);
                EXECUTE format('DROP TABLE %I', part.name);
                dropped := dropped || part.name::text;
            END LOOP;
            RETURN dropped;
        END
        $$
        """,
    ]


def upgrade() -> None:
    bind = op.get_bind()
    s = _ident(bind.exec_driver_sql("SELECT current_schema()").scalar_one())
    # Through the driver directly: PL/pgSQL bodies hold '%' and ':'.
    driver = bind.connection.driver_connection
    assert driver is not None
    for statement in _statements(s):
        driver.execute(statement)


def downgrade() -> None:
    pass
