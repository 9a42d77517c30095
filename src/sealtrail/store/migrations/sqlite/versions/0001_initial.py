"""Initial schema: tenants, API keys, event types, events, FTS, tree state.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Every index leads with tenant_id (nothing is ever read across tenants) and
# ends with (occurred_at, seq), the order every list is returned in, so each
# SPEC §6 filter is an index range read in the order the page needs.
_FILTER_INDEXES = {
    "time": "occurred_at, seq",
    "action": "action, occurred_at, seq",
    "category": "category, occurred_at, seq",
    "kind": "kind, occurred_at, seq",
    "outcome": "outcome, occurred_at, seq",
    "actor_id": "actor_id, occurred_at, seq",
    "actor_email": "actor_email COLLATE NOCASE, occurred_at, seq",
    "target_id": "target_id, occurred_at, seq",
    "target_email": "target_email COLLATE NOCASE, occurred_at, seq",
    "resource": "resource_type, resource_id, occurred_at, seq",
    "resource_id": "resource_id, occurred_at, seq",
    "account": "account_id, occurred_at, seq",
    "ip": "ip_key, occurred_at, seq",
}

STATEMENTS = [
    """
    CREATE TABLE tenants (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        strict      INTEGER NOT NULL DEFAULT 0,
        tree_size   INTEGER NOT NULL DEFAULT 0,
        frontier    BLOB NOT NULL DEFAULT x''
    )
    """,
    """
    CREATE TABLE api_keys (
        id           TEXT PRIMARY KEY,
        tenant_id    TEXT NOT NULL REFERENCES tenants(id),
        secret_hash  BLOB NOT NULL,
        scopes       TEXT NOT NULL,
        name         TEXT,
        created_at   INTEGER NOT NULL,
        revoked_at   INTEGER
    )
    """,
    "CREATE INDEX api_keys_tenant ON api_keys (tenant_id)",
    """
    CREATE TABLE event_types (
        tenant_id       TEXT NOT NULL REFERENCES tenants(id),
        name            TEXT NOT NULL,
        category        TEXT NOT NULL,
        kind            TEXT NOT NULL,
        description     TEXT NOT NULL,
        expects_target  INTEGER NOT NULL DEFAULT 0,
        resource_type   TEXT,
        PRIMARY KEY (tenant_id, name)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE events (
        rowid          INTEGER PRIMARY KEY,
        tenant_id      TEXT NOT NULL,
        seq            INTEGER NOT NULL,
        id             TEXT NOT NULL,
        action         TEXT NOT NULL,
        category       TEXT NOT NULL,
        kind           TEXT NOT NULL,
        occurred_at    INTEGER NOT NULL,
        received_at    INTEGER NOT NULL,
        outcome        TEXT NOT NULL,
        actor_type     TEXT NOT NULL,
        actor_id       TEXT NOT NULL,
        actor_role     TEXT,
        actor_name     TEXT,
        actor_email    TEXT,
        target_type    TEXT,
        target_id      TEXT,
        target_name    TEXT,
        target_email   TEXT,
        resource_type  TEXT,
        resource_id    TEXT,
        resource_name  TEXT,
        account_id     TEXT,
        description    TEXT,
        context        TEXT,
        ip             TEXT,
        ip_key         BLOB,
        user_agent     TEXT,
        request_id     TEXT,
        salts          BLOB NOT NULL,
        leaf_hash      BLOB NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX events_seq ON events (tenant_id, seq)",
    "CREATE UNIQUE INDEX events_id ON events (tenant_id, id)",
    *(
        f"CREATE INDEX events_by_{name} ON events (tenant_id, {columns})"
        for name, columns in _FILTER_INDEXES.items()
    ),
    # Contentless: the text lives in events; erasure deletes index entries by rowid.
    """
    CREATE VIRTUAL TABLE events_fts USING fts5(
        body, content='', tokenize='unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TABLE tree_nodes (
        tenant_id  TEXT NOT NULL,
        level      INTEGER NOT NULL,
        idx        INTEGER NOT NULL,
        hash       BLOB NOT NULL,
        PRIMARY KEY (tenant_id, level, idx)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE checkpoints (
        tenant_id   TEXT NOT NULL,
        tree_size   INTEGER NOT NULL,
        root_hash   BLOB NOT NULL,
        note        TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, tree_size)
    ) WITHOUT ROWID
    """,
    # The log is append-only below the application too.
    *(
        f"""
        CREATE TRIGGER {table}_refuse_{verb.lower()} BEFORE {verb} ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} are append-only: {verb} refused'); END
        """
        for table in ("events", "tree_nodes", "checkpoints")
        for verb in ("UPDATE", "DELETE")
    ),
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
