"""Privacy: commitments of erased fields, the erase-only guard, erasure jobs, mask patterns.

Revision ID: 0004
Revises: 0003

``events.commitments`` holds, for each erased personal field, one byte (its
place in the leaf's list of personal fields) and the 32-byte commitment the
leaf keeps for it, appended as fields are erased.

The UPDATE trigger of 0001 refused every change. Its replacement (same name)
lets exactly one shape through, the one erasure writes:

* no column outside the personal ones (and their salts and commitments) changes;
* a personal column either keeps its value or becomes NULL (``ip_key`` only
  together with ``ip``);
* the salts keep their layout; a 16-byte salt either stays or becomes zeros;
* the commitments only grow, by whole entries;
* as many columns were cleared as salts were zeroed as entries were appended,
  and at least one.

Anything else — a rewritten value, a changed action, a no-op UPDATE — is
refused, and DELETE stays refused.

``tenants.mask_keys`` holds the tenant's own context key patterns to mask at
ingest, one per line.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FIXED = (
    "rowid",
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
SALT, ENTRY = 16, 33
REFUSED = "events are append-only: UPDATE refused (erasure may only clear personal fields)"


def _slot(row: str, k: int) -> str:
    return f"substr({row}.salts, {2 + SALT * k}, {SALT})"


def _erase_only() -> str:
    old_c, new_c = "coalesce(OLD.commitments, x'')", "coalesce(NEW.commitments, x'')"
    cleared = " + ".join(f"(OLD.{c} IS NOT NULL AND NEW.{c} IS NULL)" for c in PERSONAL)
    zeroed = " + ".join(
        f"({_slot('OLD', k)} <> zeroblob({SALT}) AND {_slot('NEW', k)} = zeroblob({SALT}))"
        for k in range(len(PERSONAL))
    )
    added = f"((length({new_c}) - length({old_c})) / {ENTRY})"
    conditions = [
        *(f"NEW.{c} IS OLD.{c}" for c in FIXED),
        *(f"(NEW.{c} IS OLD.{c} OR NEW.{c} IS NULL)" for c in PERSONAL),
        "(NEW.ip_key IS OLD.ip_key OR (NEW.ip_key IS NULL AND NEW.ip IS NULL))",
        "length(NEW.salts) = length(OLD.salts)",
        "substr(NEW.salts, 1, 1) = substr(OLD.salts, 1, 1)",
        *(
            f"({_slot('NEW', k)} = {_slot('OLD', k)} OR {_slot('NEW', k)} = zeroblob({SALT}))"
            for k in range(len(PERSONAL))
        ),
        f"substr({new_c}, 1, length({old_c})) = {old_c}",
        f"(length({new_c}) - length({old_c})) % {ENTRY} = 0",
        f"{added} >= 1",
        f"({cleared}) = {added}",
        f"({zeroed}) = {added}",
    ]
    return f"""
    CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
    WHEN NOT ({" AND ".join(conditions)})
    BEGIN
        SELECT RAISE(ABORT, '{REFUSED}');
    END
    """


STATEMENTS = [
    "ALTER TABLE events ADD COLUMN commitments BLOB",
    "ALTER TABLE tenants ADD COLUMN mask_keys TEXT NOT NULL DEFAULT ''",
    "DROP TRIGGER events_refuse_update",
    _erase_only(),
    """
    CREATE TABLE erasures (
        id              TEXT PRIMARY KEY,
        tenant_id       TEXT NOT NULL REFERENCES tenants(id),
        subject_kind    TEXT NOT NULL,
        subject         TEXT,
        reason          TEXT NOT NULL,
        requested_by    TEXT NOT NULL,
        status          TEXT NOT NULL,
        events_matched  INTEGER NOT NULL,
        events_erased   INTEGER NOT NULL DEFAULT 0,
        last_seq        INTEGER NOT NULL DEFAULT -1,
        created_at      INTEGER NOT NULL,
        finished_at     INTEGER,
        lease_until     INTEGER NOT NULL DEFAULT 0
    )
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
