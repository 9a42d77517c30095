"""Privacy: erased fields' commitments, the erase-only guard and function, jobs, mask patterns.

Revision ID: 0004
Revises: 0003

``events.commitments`` holds, for each erased personal field, one byte (its
place in the leaf's list of personal fields) and the 32-byte commitment the
leaf keeps for it, appended as fields are erased.

The row trigger of 0001 (same name, enabled ALWAYS, so it binds the owner
and a ``replica`` session too) keeps refusing DELETE, and now lets an UPDATE
of ``events`` through only in the shape erasure writes: nothing outside the personal columns, their
salts and commitments changes; a personal column keeps its value or becomes
NULL (``ip_key`` only with ``ip``); a salt stays or becomes 16 zero bytes; the
commitments only grow by whole entries; and as many columns are cleared as
salts zeroed as entries appended, at least one.

The runtime role has no UPDATE on ``events``. It may EXECUTE
``sealtrail_erase`` (SECURITY DEFINER), which clears, for each event, the
fields its commitment entries name that still hold a value, zeroes their
salts and appends the entries — nothing else. ``sealtrail_add_partition`` is
replaced so the rows it moves out of the default partition keep their
commitments. ``tenants.mask_keys`` holds the tenant's own context key
patterns to mask at ingest, one per line (the runtime role may not change it).
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FIXED = (
    "tenant_id",
    "seq",
    "id",
    "action",
    "category",
    "kind",
    "occurred_at",
    "received_at",
    "outcome",
    "actor_type",
    "actor_id",
    "actor_role",
    "target_type",
    "target_id",
    "resource_type",
    "resource_id",
    "resource_name",
    "account_id",
    "request_id",
    "leaf_hash",
)
PERSONAL = (
    "actor_name",
    "actor_email",
    "target_name",
    "target_email",
    "description",
    "context",
    "ip",
    "user_agent",
)
ALL_COLUMNS = (
    "tenant_id, seq, id, action, category, kind, occurred_at, received_at, outcome,"
    " actor_type, actor_id, actor_role, actor_name, actor_email, target_type, target_id,"
    " target_name, target_email, resource_type, resource_id, resource_name, account_id,"
    " description, context, ip, ip_key, user_agent, request_id, salts, commitments, leaf_hash"
)
_REFUSED = (
    "RAISE EXCEPTION 'events are append-only: UPDATE refused "
    "(erasure may only clear personal fields)' USING ERRCODE = 'restrict_violation'"
)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _guard(s: str) -> str:
    old = ", ".join(f"OLD.{c}" for c in FIXED)
    new = ", ".join(f"NEW.{c}" for c in FIXED)
    cleared = " + ".join(f"(OLD.{c} IS NOT NULL AND NEW.{c} IS NULL)::int" for c in PERSONAL)
    rewritten = " OR ".join(
        f"(NEW.{c} IS DISTINCT FROM OLD.{c} AND NEW.{c} IS NOT NULL)" for c in PERSONAL
    )
    return f"""
    CREATE FUNCTION {s}.sealtrail_guard_event() RETURNS trigger
        LANGUAGE plpgsql AS $$
    DECLARE
        zero constant bytea := '\\x00000000000000000000000000000000'::bytea;
        old_c bytea := coalesce(OLD.commitments, '\\x'::bytea);
        new_c bytea := coalesce(NEW.commitments, '\\x'::bytea);
        cleared integer := {cleared};
        zeroed integer := 0;
        added integer;
        n bytea;
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'events are append-only: DELETE refused'
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF ROW({new}) IS DISTINCT FROM ROW({old}) OR {rewritten}
           OR (NEW.ip_key IS DISTINCT FROM OLD.ip_key
               AND (NEW.ip_key IS NOT NULL OR NEW.ip IS NOT NULL))
           OR length(NEW.salts) <> length(OLD.salts)
           OR substring(NEW.salts FROM 1 FOR 1) <> substring(OLD.salts FROM 1 FOR 1)
           OR substring(new_c FROM 1 FOR length(old_c)) <> old_c
           OR (length(new_c) - length(old_c)) % 33 <> 0 THEN
            {_REFUSED};
        END IF;
        FOR k IN 0 .. 7 LOOP
            n := substring(NEW.salts FROM 2 + 16 * k FOR 16);
            IF n <> substring(OLD.salts FROM 2 + 16 * k FOR 16) THEN
                IF n <> zero THEN
                    {_REFUSED};
                END IF;
                zeroed := zeroed + 1;
            END IF;
        END LOOP;
        added := (length(new_c) - length(old_c)) / 33;
        IF added = 0 OR added <> cleared OR added <> zeroed THEN
            {_REFUSED};
        END IF;
        RETURN NEW;
    END
    $$
    """


def _erase(s: str) -> str:
    present = " | ".join(
        f"(CASE WHEN {c} IS NOT NULL THEN {1 << bit} ELSE 0 END)" for bit, c in enumerate(PERSONAL)
    )
    cleared = ",\n                ".join(
        f"{c} = CASE WHEN wanted & {1 << bit} <> 0 THEN NULL ELSE {c} END"
        for bit, c in enumerate(PERSONAL)
    )
    return f"""
    CREATE FUNCTION {s}.sealtrail_erase(p_tenant text, p_seqs bigint[], p_entries bytea[])
        RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = {s}, pg_catalog, pg_temp
    AS $$
    DECLARE
        zero constant bytea := '\\x00000000000000000000000000000000'::bytea;
        at bigint;
        has integer;
        wanted integer;
        field integer;
        mask integer;
        slot integer;
        salts_now bytea;
        kept bytea;
        changed integer := 0;
    BEGIN
        IF cardinality(p_seqs) IS DISTINCT FROM cardinality(p_entries) THEN
            RAISE EXCEPTION 'one commitment list per seq';
        END IF;
        FOR i IN 1 .. coalesce(cardinality(p_seqs), 0) LOOP
            IF p_entries[i] IS NULL OR length(p_entries[i]) = 0
               OR length(p_entries[i]) % 33 <> 0 THEN
                RAISE EXCEPTION 'seq %: commitments come as 33-byte entries', p_seqs[i];
            END IF;
            SELECT occurred_at INTO at FROM event_ids
                WHERE tenant_id = p_tenant AND seq = p_seqs[i];
            IF NOT FOUND THEN
                RAISE EXCEPTION 'tenant % has no event %', p_tenant, p_seqs[i]
                    USING ERRCODE = 'no_data_found';
            END IF;
            SELECT {present}, salts INTO has, salts_now FROM events
                WHERE tenant_id = p_tenant AND seq = p_seqs[i] AND occurred_at = at
                FOR UPDATE;
            -- Only the fields that still hold a value: erasing twice changes nothing.
            wanted := 0;
            kept := '\\x'::bytea;
            FOR j IN 0 .. length(p_entries[i]) / 33 - 1 LOOP
                field := get_byte(p_entries[i], 33 * j);
                IF field > 7 THEN
                    RAISE EXCEPTION 'seq %: no personal field %', p_seqs[i], field;
                END IF;
                IF has & (1 << field) <> 0 AND wanted & (1 << field) = 0 THEN
                    wanted := wanted | (1 << field);
                    kept := kept || substring(p_entries[i] FROM 33 * j + 1 FOR 33);
                END IF;
            END LOOP;
            CONTINUE WHEN wanted = 0;
            mask := get_byte(salts_now, 0);
            slot := 0;
            FOR bit IN 0 .. 7 LOOP
                IF mask & (1 << bit) <> 0 THEN
                    IF wanted & (1 << bit) <> 0 THEN
                        salts_now := overlay(salts_now PLACING zero FROM 2 + 16 * slot FOR 16);
                    END IF;
                    slot := slot + 1;
                END IF;
            END LOOP;
            UPDATE events SET
                {cleared},
                ip_key = CASE WHEN wanted & 64 <> 0 THEN NULL ELSE ip_key END,
                salts = salts_now,
                commitments = coalesce(commitments, '\\x'::bytea) || kept
            WHERE tenant_id = p_tenant AND seq = p_seqs[i] AND occurred_at = at;
            changed := changed + 1;
        END LOOP;
        RETURN changed;
    END
    $$
    """


def _add_partition(s: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION {s}.sealtrail_add_partition(
        month date, move_rows boolean DEFAULT true
    )
        RETURNS boolean
        LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = {s}, pg_catalog, pg_temp
    AS $$
    DECLARE
        first date := date_trunc('month', month)::date;
        part text := 'events_' || to_char(first, 'YYYY_MM');
        following date := (first + interval '1 month')::date;
        lo bigint := (extract(epoch FROM first::timestamp) * 1000000)::bigint;
        hi bigint := (extract(epoch FROM following::timestamp) * 1000000)::bigint;
        stranded boolean;
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('sealtrail.partitions'));
        IF EXISTS (SELECT 1 FROM pg_class c
                   WHERE c.relname = part AND c.relnamespace = '{s}'::regnamespace) THEN
            RETURN false;
        END IF;
        stranded := EXISTS (SELECT 1 FROM events_default
                            WHERE occurred_at >= lo AND occurred_at < hi);
        IF stranded AND NOT move_rows THEN
            RAISE NOTICE 'events_default holds rows of %: run sealtrail_add_partition(%) '
                         'as the owner to move them', part, first;
            RETURN false;
        END IF;
        IF stranded THEN
            LOCK TABLE events IN ACCESS EXCLUSIVE MODE;
            ALTER TABLE events DETACH PARTITION events_default;
            EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%s) TO (%s)',
                           part, lo, hi);
            INSERT INTO events ({ALL_COLUMNS})
                SELECT {ALL_COLUMNS} FROM events_default
                WHERE occurred_at >= lo AND occurred_at < hi;
            DELETE FROM events_default WHERE occurred_at >= lo AND occurred_at < hi;
            ALTER TABLE events ATTACH PARTITION events_default DEFAULT;
        ELSE
            EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%s) TO (%s)',
                           part, lo, hi);
        END IF;
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION sealtrail_refuse_change()',
                       part || '_refuse_truncate', part);
        EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER %I',
                       part, part || '_refuse_truncate');
        RETURN true;
    END
    $$
    """


def _statements(s: str) -> list[str]:
    return [
        f"ALTER TABLE {s}.events ADD COLUMN commitments bytea",
        f"ALTER TABLE {s}.tenants ADD COLUMN mask_keys text NOT NULL DEFAULT ''",
        _guard(s),
        f"DROP TRIGGER events_refuse_change ON {s}.events",
        f"""
        CREATE TRIGGER events_refuse_change BEFORE UPDATE OR DELETE ON {s}.events
            FOR EACH ROW EXECUTE FUNCTION {s}.sealtrail_guard_event()
        """,
        f"ALTER TABLE {s}.events ENABLE ALWAYS TRIGGER events_refuse_change",
        _erase(s),
        f"REVOKE ALL ON FUNCTION {s}.sealtrail_erase(text, bigint[], bytea[]) FROM PUBLIC",
        _add_partition(s),
        f"""
        CREATE TABLE {s}.erasures (
            id              text COLLATE "C" PRIMARY KEY,
            tenant_id       text COLLATE "C" NOT NULL REFERENCES {s}.tenants (id),
            subject_kind    text NOT NULL,
            subject         text,
            reason          text NOT NULL,
            requested_by    text NOT NULL,
            status          text NOT NULL,
            events_matched  bigint NOT NULL,
            events_erased   bigint NOT NULL DEFAULT 0,
            last_seq        bigint NOT NULL DEFAULT -1,
            created_at      bigint NOT NULL,
            finished_at     bigint,
            lease_until     bigint NOT NULL DEFAULT 0
        )
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
