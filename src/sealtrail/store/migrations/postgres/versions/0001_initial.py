"""Initial PostgreSQL schema: tenants, keys, types, partitioned events, tree state, guards.

Revision ID: 0001
Revises:

Layout, and why (measurements in docs/operations.md):

* ``events`` is range-partitioned by calendar month (UTC) on ``occurred_at``,
  microseconds since the epoch, so the bounds are microsecond values. A DEFAULT
  partition takes whatever no month partition covers (clock skew, backfills), so
  an insert never fails for want of a partition. ``sealtrail_add_partition``
  creates a month, moving its rows out of the default partition when there are
  any; ``sealtrail_ensure_partitions`` (callable by the runtime role) creates
  the months ahead.
* A partitioned table's unique constraints must contain the partition key, so
  neither "one event per (tenant, id)" nor "one event per (tenant, seq)" can be
  enforced on ``events``. Both live in ``event_ids``, a plain table with one row
  per event: PRIMARY KEY (tenant_id, id) makes a resend idempotent and UNIQUE
  (tenant_id, seq) keeps the log gap-free of duplicates. It also carries the
  leaf hash and occurred_at, so proofs and id lookups never probe every
  partition.
* Every key and index of tenant data leads with tenant_id, so Citus can
  distribute it all by tenant (``api_keys``, found by key id alone, is the one
  table meant to be a reference table). The filter indexes mirror SQLite's and
  end with (occurred_at, seq), the order every page is read in; those on
  optional columns are partial (NOT NULL); one more on the action's first
  segment serves ``action=member.*`` in order.
* Free text: a stored ``tsvector`` generated from the searchable fields, with
  a GIN index. ``sealtrail_words`` turns ASCII punctuation into spaces first, so
  words split where SQLite's FTS5 tokenizer splits them (``bob@example.com``
  is three words on both engines), and the ``sealtrail_text`` configuration
  folds case and, when the unaccent extension is available, diacritics.
* UPDATE, DELETE and TRUNCATE of events, event ids, tree nodes and checkpoints
  are refused by triggers enabled ALWAYS (they fire even with
  ``session_replication_role = replica``), for every role including the owner.
  A tenant's tree head may only grow.
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# Filter indexes on events: name → (columns after tenant_id, partial predicate).
FILTER_INDEXES: dict[str, tuple[str, str | None]] = {
    "time": ("occurred_at, seq", None),
    "action": ("action, occurred_at, seq", None),
    # action=member.* reads the "member" group in time order instead of sorting it.
    "action_group": ("split_part(action, '.', 1), occurred_at, seq", None),
    "category": ("category, occurred_at, seq", None),
    "kind": ("kind, occurred_at, seq", None),
    "outcome": ("outcome, occurred_at, seq", None),
    "actor_id": ("actor_id, occurred_at, seq", None),
    "actor_email": ("lower(actor_email), occurred_at, seq", "actor_email IS NOT NULL"),
    "target_id": ("target_id, occurred_at, seq", "target_id IS NOT NULL"),
    "target_email": ("lower(target_email), occurred_at, seq", "target_email IS NOT NULL"),
    "resource": ("resource_type, resource_id, occurred_at, seq", "resource_type IS NOT NULL"),
    "resource_id": ("resource_id, occurred_at, seq", "resource_id IS NOT NULL"),
    "account": ("account_id, occurred_at, seq", "account_id IS NOT NULL"),
    "ip": ("ip_key, occurred_at, seq", "ip_key IS NOT NULL"),
}

# Tables whose rows never change once written.
APPEND_ONLY = ("events", "event_ids", "tree_nodes", "checkpoints")


def _schema_statements(s: str, unaccent_schema: str | None) -> list[str]:
    text_config = f"{s}.sealtrail_text"
    fold = f"{_ident(unaccent_schema)}.unaccent, " if unaccent_schema else ""
    return [
        f"""
        CREATE TABLE {s}.tenants (
            id          text COLLATE "C" PRIMARY KEY,
            name        text NOT NULL,
            created_at  bigint NOT NULL,
            strict      boolean NOT NULL DEFAULT false,
            tree_size   bigint NOT NULL DEFAULT 0 CHECK (tree_size >= 0),
            frontier    bytea NOT NULL DEFAULT '\\x'
        )
        """,
        f"""
        CREATE TABLE {s}.api_keys (
            id           text COLLATE "C" PRIMARY KEY,
            tenant_id    text COLLATE "C" NOT NULL REFERENCES {s}.tenants (id),
            secret_hash  bytea NOT NULL,
            scopes       text NOT NULL,
            name         text,
            created_at   bigint NOT NULL,
            revoked_at   bigint
        )
        """,
        f"CREATE INDEX api_keys_tenant ON {s}.api_keys (tenant_id, created_at)",
        f"""
        CREATE TABLE {s}.event_types (
            tenant_id       text COLLATE "C" NOT NULL REFERENCES {s}.tenants (id),
            name            text COLLATE "C" NOT NULL,
            category        text NOT NULL,
            kind            text NOT NULL,
            description     text NOT NULL,
            expects_target  boolean NOT NULL DEFAULT false,
            resource_type   text,
            PRIMARY KEY (tenant_id, name)
        )
        """,
        # -- free text ------------------------------------------------------
        f"CREATE TEXT SEARCH CONFIGURATION {text_config} (COPY = pg_catalog.simple)",
        f"""
        ALTER TEXT SEARCH CONFIGURATION {text_config}
            ALTER MAPPING FOR word, numword, hword, numhword, hword_part
            WITH {fold}pg_catalog.simple
        """,
        f"""
        CREATE FUNCTION {s}.sealtrail_words(body text) RETURNS text
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            RETURN pg_catalog.regexp_replace(body COLLATE "C", '[[:punct:]]+', ' ', 'g')
        """,
        f"""
        CREATE FUNCTION {s}.sealtrail_search_vector(VARIADIC parts text[]) RETURNS tsvector
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            RETURN pg_catalog.to_tsvector(
                '{text_config}'::regconfig,
                {s}.sealtrail_words(pg_catalog.array_to_string(parts, ' '))
            )
        """,
        f"""
        CREATE FUNCTION {s}.sealtrail_phrase(words text) RETURNS tsquery
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            RETURN pg_catalog.phraseto_tsquery(
                '{text_config}'::regconfig, {s}.sealtrail_words(words)
            )
        """,
        # -- events ---------------------------------------------------------
        f"""
        CREATE TABLE {s}.events (
            tenant_id      text COLLATE "C" NOT NULL,
            seq            bigint NOT NULL,
            id             text COLLATE "C" NOT NULL,
            action         text COLLATE "C" NOT NULL,
            category       text COLLATE "C" NOT NULL,
            kind           text COLLATE "C" NOT NULL,
            occurred_at    bigint NOT NULL,
            received_at    bigint NOT NULL,
            outcome        text COLLATE "C" NOT NULL,
            actor_type     text COLLATE "C" NOT NULL,
            actor_id       text COLLATE "C" NOT NULL,
            actor_role     text,
            actor_name     text,
            actor_email    text COLLATE "C",
            target_type    text COLLATE "C",
            target_id      text COLLATE "C",
            target_name    text,
            target_email   text COLLATE "C",
            resource_type  text COLLATE "C",
            resource_id    text COLLATE "C",
            resource_name  text,
            account_id     text COLLATE "C",
            description    text,
            context        text,
            ip             text,
            ip_key         bytea,
            user_agent     text,
            request_id     text,
            salts          bytea NOT NULL,
            leaf_hash      bytea NOT NULL,
            search         tsvector GENERATED ALWAYS AS (
                {s}.sealtrail_search_vector(
                    description, actor_name, actor_email, target_name, target_email,
                    resource_id, resource_name
                )
            ) STORED,
            PRIMARY KEY (tenant_id, seq, occurred_at)
        ) PARTITION BY RANGE (occurred_at)
        """,
        *(
            f"CREATE INDEX events_by_{name} ON {s}.events (tenant_id, {columns})"
            + (f" WHERE {where}" if where else "")
            for name, (columns, where) in FILTER_INDEXES.items()
        ),
        f"CREATE INDEX events_search ON {s}.events USING gin (search)",
        f"CREATE TABLE {s}.events_default PARTITION OF {s}.events DEFAULT",
        f"""
        CREATE TABLE {s}.event_ids (
            tenant_id    text COLLATE "C" NOT NULL,
            id           text COLLATE "C" NOT NULL,
            seq          bigint NOT NULL CHECK (seq >= 0),
            occurred_at  bigint NOT NULL,
            leaf_hash    bytea NOT NULL,
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, seq)
        )
        """,
        # -- tree state -----------------------------------------------------
        f"""
        CREATE TABLE {s}.tree_nodes (
            tenant_id  text COLLATE "C" NOT NULL,
            level      smallint NOT NULL CHECK (level > 0),
            idx        bigint NOT NULL,
            hash       bytea NOT NULL,
            PRIMARY KEY (tenant_id, level, idx)
        )
        """,
        f"""
        CREATE TABLE {s}.checkpoints (
            tenant_id   text COLLATE "C" NOT NULL,
            tree_size   bigint NOT NULL,
            root_hash   bytea NOT NULL,
            note        text NOT NULL,
            created_at  bigint NOT NULL,
            PRIMARY KEY (tenant_id, tree_size)
        )
        """,
    ]


def _guard_statements(s: str) -> list[str]:
    out = [
        f"""
        CREATE FUNCTION {s}.sealtrail_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'restrict_violation';
        END
        $$
        """,
        f"""
        CREATE FUNCTION {s}.sealtrail_guard_tenant() RETURNS trigger
            LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF OLD.tree_size > 0 THEN
                    RAISE EXCEPTION 'tenant % has a log: DELETE refused', OLD.id
                        USING ERRCODE = 'restrict_violation';
                END IF;
                RETURN OLD;
            END IF;
            IF NEW.id <> OLD.id OR NEW.created_at <> OLD.created_at
               OR NEW.tree_size < OLD.tree_size
               OR (NEW.tree_size = OLD.tree_size AND NEW.frontier <> OLD.frontier) THEN
                RAISE EXCEPTION 'tenant %: a tree head may only grow', OLD.id
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END
        $$
        """,
        f"""
        CREATE TRIGGER tenants_guard BEFORE UPDATE OR DELETE ON {s}.tenants
            FOR EACH ROW EXECUTE FUNCTION {s}.sealtrail_guard_tenant()
        """,
        f"""
        CREATE TRIGGER tenants_refuse_truncate BEFORE TRUNCATE ON {s}.tenants
            FOR EACH STATEMENT EXECUTE FUNCTION {s}.sealtrail_refuse_change()
        """,
        f"ALTER TABLE {s}.tenants ENABLE ALWAYS TRIGGER tenants_guard",
        f"ALTER TABLE {s}.tenants ENABLE ALWAYS TRIGGER tenants_refuse_truncate",
    ]
    for table in APPEND_ONLY:
        out += [
            f"""
            CREATE TRIGGER {table}_refuse_change BEFORE UPDATE OR DELETE ON {s}.{table}
                FOR EACH ROW EXECUTE FUNCTION {s}.sealtrail_refuse_change()
            """,
            f"ALTER TABLE {s}.{table} ENABLE ALWAYS TRIGGER {table}_refuse_change",
        ]
    # Statement triggers are not inherited by partitions: each partition gets its own.
    for table in (*APPEND_ONLY, "events_default"):
        out += [
            f"""
            CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {s}.{table}
                FOR EACH STATEMENT EXECUTE FUNCTION {s}.sealtrail_refuse_change()
            """,
            f"ALTER TABLE {s}.{table} ENABLE ALWAYS TRIGGER {table}_refuse_truncate",
        ]
    return out


def _partition_statements(s: str) -> list[str]:
    columns = (
        "tenant_id, seq, id, action, category, kind, occurred_at, received_at, outcome,"
        " actor_type, actor_id, actor_role, actor_name, actor_email, target_type, target_id,"
        " target_name, target_email, resource_type, resource_id, resource_name, account_id,"
        " description, context, ip, ip_key, user_agent, request_id, salts, leaf_hash"
    )
    return [
        f"""
        CREATE FUNCTION {s}.sealtrail_add_partition(month date, move_rows boolean DEFAULT true)
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
                -- Detached, the default partition loses the cloned row triggers, so
                -- its rows of this month can move; the table lock makes it atomic.
                LOCK TABLE events IN ACCESS EXCLUSIVE MODE;
                ALTER TABLE events DETACH PARTITION events_default;
                EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%s) TO (%s)',
                               part, lo, hi);
                INSERT INTO events ({columns})
                    SELECT {columns} FROM events_default
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
        """,
        f"""
        CREATE FUNCTION {s}.sealtrail_ensure_partitions(months_ahead integer DEFAULT 3)
            RETURNS bigint
            LANGUAGE plpgsql SECURITY DEFINER
            SET search_path = {s}, pg_catalog, pg_temp
        AS $$
        DECLARE
            this_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
            horizon date := (this_month + make_interval(months => months_ahead + 1))::date;
        BEGIN
            IF months_ahead < 0 OR months_ahead > 120 THEN
                RAISE EXCEPTION 'months_ahead must be 0..120, not %', months_ahead;
            END IF;
            FOR i IN 0 .. months_ahead LOOP
                BEGIN
                    PERFORM sealtrail_add_partition(
                        (this_month + make_interval(months => i))::date, false);
                EXCEPTION WHEN check_violation THEN
                    -- rows of that month reached the default partition meanwhile
                    RAISE NOTICE 'partition for % not created: %', this_month, SQLERRM;
                END;
            END LOOP;
            RETURN (extract(epoch FROM horizon::timestamp) * 1000000)::bigint;
        END
        $$
        """,
        f"REVOKE ALL ON FUNCTION {s}.sealtrail_add_partition(date, boolean) FROM PUBLIC",
        f"REVOKE ALL ON FUNCTION {s}.sealtrail_ensure_partitions(integer) FROM PUBLIC",
    ]


def upgrade() -> None:
    bind = op.get_bind()
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    available = bind.exec_driver_sql(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'unaccent'"
    ).scalar_one()
    unaccent_schema: str | None = None
    if available:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
        unaccent_schema = bind.exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'unaccent'"
        ).scalar_one()
    s = _ident(schema)
    # Through the driver directly: PL/pgSQL bodies hold '%' and ':', which
    # SQLAlchemy and psycopg would otherwise read as placeholders.
    driver = bind.connection.driver_connection
    assert driver is not None
    statements = (
        _schema_statements(s, unaccent_schema) + _guard_statements(s) + _partition_statements(s)
    )
    for statement in statements:
        driver.execute(statement)
