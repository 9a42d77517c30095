"""Retention policies, legal holds, recorded prunes, and the one narrow prune path.

Revision ID: 0005
Revises: 0004

``retention_rules`` holds each tenant's policy (the row with an empty
``action_prefix`` is its default; none: keep forever). ``legal_holds`` are
released, never deleted. ``prunes`` records every prune of a tenant's log:
events ``first_seq`` to ``below - 1`` go, announced beforehand by the
``audit_log.events_pruned`` event at ``record_seq``; a prune may only be
recorded when it starts where the last one ended, ends within the newest
signed checkpoint and was announced in the log; once recorded only its
progress changes.

``tree_nodes`` now also takes level 0, but only as an exact copy of an
event's leaf hash: that is how a pruned event's leaf stays provable.

DELETE of ``events`` and ``event_ids`` stays refused for every role (the
triggers are enabled ALWAYS) except for a row below its tenant's recorded
prune whose leaf hash is kept. The runtime role, which has no DELETE, prunes
through ``sealtrail_prune`` (SECURITY DEFINER): it keeps the leaf hashes of the
tenant's lowest rows below the prune and deletes them, a bounded batch per
call. ``sealtrail_drop_pruned_partitions`` (SECURITY DEFINER) detaches and
drops a past month's partition only when every row in it, of every tenant,
lies below its tenant's prune with its leaf hash kept.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_REFUSED_DELETE = (
    "RAISE EXCEPTION '% is append-only: DELETE refused (only a recorded prune of a prefix "
    "whose leaf hashes are kept may remove rows)', TG_TABLE_NAME USING ERRCODE = "
    "'restrict_violation'"
)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _statements(s: str) -> list[str]:
    return [
        f"""
        CREATE TABLE {s}.retention_rules (
            tenant_id      text COLLATE "C" NOT NULL REFERENCES {s}.tenants (id),
            action_prefix  text COLLATE "C" NOT NULL,
            days           integer NOT NULL CHECK (days > 0),
            PRIMARY KEY (tenant_id, action_prefix)
        )
        """,
        f"""
        CREATE TABLE {s}.legal_holds (
            id           text COLLATE "C" PRIMARY KEY,
            tenant_id    text COLLATE "C" NOT NULL REFERENCES {s}.tenants (id),
            account_id   text COLLATE "C",
            since        bigint,
            until        bigint,
            reason       text NOT NULL,
            created_by   text NOT NULL,
            created_at   bigint NOT NULL,
            released_at  bigint,
            released_by  text
        )
        """,
        f"CREATE INDEX legal_holds_tenant ON {s}.legal_holds (tenant_id, created_at)",
        f"""
        CREATE FUNCTION {s}.sealtrail_guard_hold() RETURNS trigger
            LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'legal holds are released, never deleted'
                    USING ERRCODE = 'restrict_violation';
            END IF;
            IF OLD.released_at IS NOT NULL OR NEW.released_at IS NULL
               OR ROW(NEW.id, NEW.tenant_id, NEW.account_id, NEW.since, NEW.until, NEW.reason,
                      NEW.created_by, NEW.created_at)
                  IS DISTINCT FROM
                  ROW(OLD.id, OLD.tenant_id, OLD.account_id, OLD.since, OLD.until, OLD.reason,
                      OLD.created_by, OLD.created_at) THEN
                RAISE EXCEPTION 'a legal hold may only be released, once'
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END
        $$
        """,
        f"""
        CREATE TRIGGER legal_holds_guard BEFORE UPDATE OR DELETE ON {s}.legal_holds
            FOR EACH ROW EXECUTE FUNCTION {s}.sealtrail_guard_hold()
        """,
        f"ALTER TABLE {s}.legal_holds ENABLE ALWAYS TRIGGER legal_holds_guard",
        f"""
        CREATE TABLE {s}.prunes (
            tenant_id    text COLLATE "C" NOT NULL REFERENCES {s}.tenants (id),
            below        bigint NOT NULL,
            first_seq    bigint NOT NULL,
            record_seq   bigint NOT NULL,
            created_at   bigint NOT NULL,
            finished_at  bigint,
            deleted      bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, below)
        )
        """,
        f"""
        CREATE FUNCTION {s}.sealtrail_guard_prune_record() RETURNS trigger
            LANGUAGE plpgsql AS $$
        DECLARE
            last bigint;
            signed bigint;
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'prunes are append-only: DELETE refused'
                    USING ERRCODE = 'restrict_violation';
            END IF;
            IF TG_OP = 'UPDATE' THEN
                IF ROW(NEW.tenant_id, NEW.below, NEW.first_seq, NEW.record_seq, NEW.created_at)
                   IS DISTINCT FROM
                   ROW(OLD.tenant_id, OLD.below, OLD.first_seq, OLD.record_seq, OLD.created_at)
                   OR NEW.deleted < OLD.deleted THEN
                    RAISE EXCEPTION 'a recorded prune only makes progress'
                        USING ERRCODE = 'restrict_violation';
                END IF;
                RETURN NEW;
            END IF;
            PERFORM pg_advisory_xact_lock(hashtext('sealtrail.prune:' || NEW.tenant_id));
            SELECT coalesce(max(below), 0) INTO last FROM prunes WHERE tenant_id = NEW.tenant_id;
            SELECT coalesce(max(tree_size), 0) INTO signed FROM checkpoints
                WHERE tenant_id = NEW.tenant_id;
            IF NEW.first_seq <> last OR NEW.below <= NEW.first_seq OR NEW.below > signed
               OR NEW.record_seq < NEW.below
               OR EXISTS (SELECT 1 FROM prunes WHERE tenant_id = NEW.tenant_id
                          AND record_seq = NEW.record_seq)
               OR NOT EXISTS (
                   SELECT 1 FROM event_ids i JOIN events e ON e.tenant_id = i.tenant_id
                       AND e.seq = i.seq AND e.occurred_at = i.occurred_at
                   WHERE i.tenant_id = NEW.tenant_id AND i.seq = NEW.record_seq
                       AND e.action = 'audit_log.events_pruned') THEN
                RAISE EXCEPTION 'a prune starts where the last ended, ends within the newest '
                    'signed checkpoint, and is announced in the log first'
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END
        $$
        """,
        f"""
        CREATE TRIGGER prunes_guard BEFORE INSERT OR UPDATE OR DELETE ON {s}.prunes
            FOR EACH ROW EXECUTE FUNCTION {s}.sealtrail_guard_prune_record()
        """,
        f"ALTER TABLE {s}.prunes ENABLE ALWAYS TRIGGER prunes_guard",
        f"""
        CREATE TRIGGER prunes_refuse_truncate BEFORE TRUNCATE ON {s}.prunes
            FOR EACH STATEMENT EXECUTE FUNCTION {s}.sealtrail_refuse_change()
        """,
        f"ALTER TABLE {s}.prunes ENABLE ALWAYS TRIGGER prunes_refuse_truncate",
        # -- a pruned event's leaf hash, kept as a level-0 node -----------------------
        f"ALTER TABLE {s}.tree_nodes DROP CONSTRAINT tree_nodes_level_check",
        f"ALTER TABLE {s}.tree_nodes ADD CONSTRAINT tree_nodes_level_check CHECK (level >= 0)",
        f"""
        CREATE FUNCTION {s}.sealtrail_check_leaf_copy() RETURNS trigger
            LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM event_ids WHERE tenant_id = NEW.tenant_id
                           AND seq = NEW.idx AND leaf_hash = NEW.hash) THEN
                RAISE EXCEPTION 'a level-0 tree node is a copy of its event''s leaf hash'
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END
        $$
        """,
        # WHEN keeps the appends' COPY of inner nodes free of any function call.
        f"""
        CREATE TRIGGER tree_nodes_leaf_copy BEFORE INSERT ON {s}.tree_nodes
            FOR EACH ROW WHEN (NEW.level = 0) EXECUTE FUNCTION {s}.sealtrail_check_leaf_copy()
        """,
        f"ALTER TABLE {s}.tree_nodes ENABLE ALWAYS TRIGGER tree_nodes_leaf_copy",
        # -- the one DELETE path --------------------------------------------------------
        f"""
        CREATE FUNCTION {s}.sealtrail_guard_delete() RETURNS trigger
            LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.seq >= coalesce((SELECT max(below) FROM prunes
                                    WHERE tenant_id = OLD.tenant_id), 0)
               OR NOT EXISTS (SELECT 1 FROM tree_nodes WHERE tenant_id = OLD.tenant_id
                              AND level = 0 AND idx = OLD.seq AND hash = OLD.leaf_hash) THEN
                {_REFUSED_DELETE};
            END IF;
            RETURN OLD;
        END
        $$
        """,
        f"DROP TRIGGER events_refuse_change ON {s}.events",
        f"""
        CREATE TRIGGER events_refuse_change BEFORE UPDATE ON {s}.events
            FOR EACH ROW EXECUTE FUNCTION {s}.sealtrail_guard_event()
        """,
        f"ALTER TABLE {s}.events ENABLE ALWAYS TRIGGER events_refuse_change",
        f"""
        CREATE TRIGGER events_guard_delete BEFORE DELETE ON {s}.events
            FOR EACH ROW EXECUTE FUNCTION {s}.sealtrail_guard_delete()
        """,
        f"ALTER TABLE {s}.events ENABLE ALWAYS TRIGGER events_guard_delete",
        f"DROP TRIGGER event_ids_refuse_change ON {s}.event_ids",
        f"""
        CREATE TRIGGER event_ids_refuse_change BEFORE UPDATE ON {s}.event_ids
            FOR EACH ROW EXECUTE FUNCTION {s}.sealtrail_refuse_change()
        """,
        f"ALTER TABLE {s}.event_ids ENABLE ALWAYS TRIGGER event_ids_refuse_change",
        f"""
        CREATE TRIGGER event_ids_guard_delete BEFORE DELETE ON {s}.event_ids
            FOR EACH ROW EXECUTE FUNCTION {s}.sealtrail_guard_delete()
        """,
        f"ALTER TABLE {s}.event_ids ENABLE ALWAYS TRIGGER event_ids_guard_delete",
        f"""
        CREATE FUNCTION {s}.sealtrail_prune(p_tenant text, p_limit integer)
            RETURNS integer
            LANGUAGE plpgsql SECURITY DEFINER
            SET search_path = {s}, pg_catalog, pg_temp
        AS $$
        DECLARE
            cut bigint;
            seqs bigint[];
            times bigint[];
            leaves bytea[];
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
            DELETE FROM events e USING unnest(seqs, times) AS u (seq, at)
                WHERE e.tenant_id = p_tenant AND e.seq = u.seq AND e.occurred_at = u.at;
            DELETE FROM event_ids WHERE tenant_id = p_tenant AND seq = ANY (seqs);
            RETURN cardinality(seqs);
        END
        $$
        """,
        f"REVOKE ALL ON FUNCTION {s}.sealtrail_prune(text, integer) FROM PUBLIC",
        f"""
        CREATE FUNCTION {s}.sealtrail_drop_pruned_partitions() RETURNS text[]
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
                EXECUTE format('ALTER TABLE events DETACH PARTITION %I', part.name);
                EXECUTE format('DROP TABLE %I', part.name);
                dropped := dropped || part.name::text;
            END LOOP;
            RETURN dropped;
        END
        $$
        """,
        f"REVOKE ALL ON FUNCTION {s}.sealtrail_drop_pruned_partitions() FROM PUBLIC",
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
