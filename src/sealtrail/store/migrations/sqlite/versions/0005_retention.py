"""Retention policies, legal holds, recorded prunes, and the one narrow prune path.

Revision ID: 0005
Revises: 0004

``retention_rules`` holds each tenant's policy: the row with an empty
``action_prefix`` is its default (no row: keep forever), the others are its
per-prefix rules. ``legal_holds`` are never deleted, only released.

``prunes`` records every prune of a tenant's log: events ``first_seq`` to
``below - 1`` go, announced beforehand by the ``audit_log.events_pruned``
event at ``record_seq``. A prune may only be recorded when it starts where the
last one ended, ends within the newest signed checkpoint, and its announcement
is in the log after the range; once recorded only its progress changes.

DELETE of ``events`` stays refused except for the one shape pruning writes: a
row below its tenant's recorded prune whose leaf hash is kept, as a level-0
row of ``tree_nodes`` (which accepts a level-0 row only as an exact copy of its
event's leaf hash). So a pruned prefix is always provable: every inclusion and
consistency proof still finds every node it reads.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

REFUSED_DELETE = (
    "events are append-only: DELETE refused (only a recorded prune of a prefix whose leaf"
    " hashes are kept may remove rows)"
)

STATEMENTS = [
    """
    CREATE TABLE retention_rules (
        tenant_id      TEXT NOT NULL REFERENCES tenants(id),
        action_prefix  TEXT NOT NULL,
        days           INTEGER NOT NULL CHECK (days > 0),
        PRIMARY KEY (tenant_id, action_prefix)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE legal_holds (
        id           TEXT PRIMARY KEY,
        tenant_id    TEXT NOT NULL REFERENCES tenants(id),
        account_id   TEXT,
        since        INTEGER,
        until        INTEGER,
        reason       TEXT NOT NULL,
        created_by   TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        released_at  INTEGER,
        released_by  TEXT
    )
    """,
    "CREATE INDEX legal_holds_tenant ON legal_holds (tenant_id, created_at)",
    """
    CREATE TRIGGER legal_holds_refuse_delete BEFORE DELETE ON legal_holds
    BEGIN SELECT RAISE(ABORT, 'legal holds are released, never deleted'); END
    """,
    """
    CREATE TRIGGER legal_holds_release_only BEFORE UPDATE ON legal_holds
    WHEN NOT (OLD.released_at IS NULL AND NEW.released_at IS NOT NULL
              AND NEW.id IS OLD.id AND NEW.tenant_id IS OLD.tenant_id
              AND NEW.account_id IS OLD.account_id AND NEW.since IS OLD.since
              AND NEW.until IS OLD.until AND NEW.reason IS OLD.reason
              AND NEW.created_by IS OLD.created_by AND NEW.created_at IS OLD.created_at)
    BEGIN SELECT RAISE(ABORT, 'a legal hold may only be released, once'); END
    """,
    """
    CREATE TABLE prunes (
        tenant_id    TEXT NOT NULL REFERENCES tenants(id),
        below        INTEGER NOT NULL,
        first_seq    INTEGER NOT NULL,
        record_seq   INTEGER NOT NULL,
        created_at   INTEGER NOT NULL,
        finished_at  INTEGER,
        deleted      INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, below)
    ) WITHOUT ROWID
    """,
    """
    CREATE TRIGGER prunes_guard_insert BEFORE INSERT ON prunes
    WHEN NOT (
        NEW.first_seq = coalesce((SELECT max(below) FROM prunes WHERE tenant_id = NEW.tenant_id), 0)
        AND NEW.below > NEW.first_seq
        AND NEW.below <= coalesce(
            (SELECT max(tree_size) FROM checkpoints WHERE tenant_id = NEW.tenant_id), 0)
        AND NEW.record_seq >= NEW.below
        AND NOT EXISTS (SELECT 1 FROM prunes WHERE tenant_id = NEW.tenant_id
                        AND record_seq = NEW.record_seq)
        AND EXISTS (SELECT 1 FROM events WHERE tenant_id = NEW.tenant_id
                    AND seq = NEW.record_seq AND action = 'audit_log.events_pruned')
    )
    BEGIN SELECT RAISE(ABORT, 'a prune starts where the last ended, ends within the newest \
signed checkpoint, and is announced in the log first'); END
    """,
    """
    CREATE TRIGGER prunes_progress_only BEFORE UPDATE ON prunes
    WHEN NOT (NEW.tenant_id IS OLD.tenant_id AND NEW.below IS OLD.below
              AND NEW.first_seq IS OLD.first_seq AND NEW.record_seq IS OLD.record_seq
              AND NEW.created_at IS OLD.created_at AND NEW.deleted >= OLD.deleted)
    BEGIN SELECT RAISE(ABORT, 'a recorded prune only makes progress'); END
    """,
    """
    CREATE TRIGGER prunes_refuse_delete BEFORE DELETE ON prunes
    BEGIN SELECT RAISE(ABORT, 'prunes are append-only: DELETE refused'); END
    """,
    """
    CREATE TRIGGER tree_nodes_leaf_copy BEFORE INSERT ON tree_nodes
    WHEN NEW.level = 0 AND NOT EXISTS (
        SELECT 1 FROM events WHERE tenant_id = NEW.tenant_id AND seq = NEW.idx
        AND leaf_hash = NEW.hash)
    BEGIN SELECT RAISE(ABORT, 'a level-0 tree node is a copy of its event''s leaf hash'); END
    """,
    "DROP TRIGGER events_refuse_delete",
    f"""
    CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
    WHEN NOT (
        OLD.seq < coalesce((SELECT max(below) FROM prunes WHERE tenant_id = OLD.tenant_id), 0)
        AND EXISTS (SELECT 1 FROM tree_nodes WHERE tenant_id = OLD.tenant_id AND level = 0
                    AND idx = OLD.seq AND hash = OLD.leaf_hash)
    )
    BEGIN SELECT RAISE(ABORT, '{REFUSED_DELETE}'); END
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    pass
