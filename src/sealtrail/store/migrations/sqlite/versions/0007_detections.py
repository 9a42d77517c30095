"""Detections: rules, their state and alerts (issue 18).

Revision ID: 0007
Revises: 0006

* ``detection_rules``: a tenant's own rules and its tuned built-ins, as JSON.
* ``detection_settings``: the tenant's time zone and business hours.
* ``detection_progress``: the first seq a detection consumer has not evaluated. It
  moves in the transaction that writes the state and the alerts of the range, so a
  range redelivered after a crash (the follower's cursor moves after) is skipped.
* ``detection_state``: windows and first-seen sets, a row per (rule id, key);
  ``expires_at`` lets lapsed windows go, ``seen_at`` the longest-unseen past a cap.
* ``alerts`` and ``alert_events`` (the seqs an alert names, for the viewer's marks).
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

STATEMENTS = [
    """
    CREATE TABLE detection_rules (
        tenant_id   TEXT NOT NULL REFERENCES tenants(id),
        name        TEXT NOT NULL,
        body        TEXT NOT NULL,
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, name)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE detection_settings (
        tenant_id       TEXT NOT NULL PRIMARY KEY REFERENCES tenants(id),
        timezone        TEXT NOT NULL,
        business_hours  TEXT NOT NULL,
        updated_at      INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE detection_progress (
        tenant_id   TEXT NOT NULL REFERENCES tenants(id),
        consumer    TEXT NOT NULL,
        next_seq    INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, consumer)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE detection_state (
        tenant_id   TEXT NOT NULL,
        rule        TEXT NOT NULL,
        key         TEXT NOT NULL,
        value       TEXT NOT NULL,
        seen_at     INTEGER NOT NULL,
        expires_at  INTEGER,
        PRIMARY KEY (tenant_id, rule, key)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX detection_state_expiry ON detection_state (tenant_id, expires_at)"
    " WHERE expires_at IS NOT NULL",
    "CREATE INDEX detection_state_seen ON detection_state (tenant_id, rule, seen_at)",
    """
    CREATE TABLE alerts (
        tenant_id        TEXT NOT NULL REFERENCES tenants(id),
        id               TEXT NOT NULL,
        rule             TEXT NOT NULL,
        severity         TEXT NOT NULL,
        title            TEXT NOT NULL,
        group_json       TEXT NOT NULL,
        status           TEXT NOT NULL,
        opened_at        INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL,
        first_at         INTEGER NOT NULL,
        last_at          INTEGER NOT NULL,
        event_ids        TEXT NOT NULL,
        event_seqs       TEXT NOT NULL,
        event_count      INTEGER NOT NULL,
        published        INTEGER NOT NULL DEFAULT 0,
        acknowledged_by  TEXT,
        acknowledged_at  INTEGER,
        resolved_by      TEXT,
        resolved_at      INTEGER,
        PRIMARY KEY (tenant_id, id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX alerts_opened ON alerts (tenant_id, opened_at, id)",
    "CREATE INDEX alerts_unpublished ON alerts (tenant_id, opened_at) WHERE published = 0",
    """
    CREATE TABLE alert_events (
        tenant_id  TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        alert_id   TEXT NOT NULL,
        PRIMARY KEY (tenant_id, seq, alert_id)
    ) WITHOUT ROWID
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for table in (
        "alert_events",
        "alerts",
        "detection_state",
        "detection_progress",
        "detection_settings",
        "detection_rules",
    ):
        op.execute(f"DROP TABLE {table}")
