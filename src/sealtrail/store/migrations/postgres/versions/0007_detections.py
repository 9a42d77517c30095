"""Detections: rules, their state and alerts (issue 18).

Revision ID: 0007
Revises: 0006

The same tables as SQLite's 0007 (see there for what each holds). Unlike the log's
own tables these rows change: the runtime role may update and delete them
(``postgres_admin``). Every key leads with tenant_id; text keys use the "C"
collation, so a rule id's range (``name@`` up to ``nameA``) means what it says.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

STATEMENTS = [
    """
    CREATE TABLE detection_rules (
        tenant_id   text COLLATE "C" NOT NULL REFERENCES tenants(id),
        name        text COLLATE "C" NOT NULL,
        body        text NOT NULL,
        updated_at  bigint NOT NULL,
        PRIMARY KEY (tenant_id, name)
    )
    """,
    """
    CREATE TABLE detection_settings (
        tenant_id       text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES tenants(id),
        timezone        text NOT NULL,
        business_hours  text NOT NULL,
        updated_at      bigint NOT NULL
    )
    """,
    """
    CREATE TABLE detection_progress (
        tenant_id   text COLLATE "C" NOT NULL REFERENCES tenants(id),
        consumer    text COLLATE "C" NOT NULL,
        next_seq    bigint NOT NULL,
        updated_at  bigint NOT NULL,
        PRIMARY KEY (tenant_id, consumer)
    )
    """,
    """
    CREATE TABLE detection_state (
        tenant_id   text COLLATE "C" NOT NULL,
        rule        text COLLATE "C" NOT NULL,
        key         text COLLATE "C" NOT NULL,
        value       text NOT NULL,
        seen_at     bigint NOT NULL,
        expires_at  bigint,
        PRIMARY KEY (tenant_id, rule, key)
    )
    """,
    "CREATE INDEX detection_state_expiry ON detection_state (tenant_id, expires_at)"
    " WHERE expires_at IS NOT NULL",
    "CREATE INDEX detection_state_seen ON detection_state (tenant_id, rule, seen_at)",
    """
    CREATE TABLE alerts (
        tenant_id        text COLLATE "C" NOT NULL REFERENCES tenants(id),
        id               text COLLATE "C" NOT NULL,
        rule             text NOT NULL,
        severity         text NOT NULL,
        title            text NOT NULL,
        group_json       text NOT NULL,
        status           text NOT NULL,
        opened_at        bigint NOT NULL,
        updated_at       bigint NOT NULL,
        first_at         bigint NOT NULL,
        last_at          bigint NOT NULL,
        event_ids        text NOT NULL,
        event_seqs       text NOT NULL,
        event_count      integer NOT NULL,
        published        boolean NOT NULL DEFAULT false,
        acknowledged_by  text,
        acknowledged_at  bigint,
        resolved_by      text,
        resolved_at      bigint,
        PRIMARY KEY (tenant_id, id)
    )
    """,
    "CREATE INDEX alerts_opened ON alerts (tenant_id, opened_at, id)",
    "CREATE INDEX alerts_unpublished ON alerts (tenant_id, opened_at) WHERE NOT published",
    """
    CREATE TABLE alert_events (
        tenant_id  text COLLATE "C" NOT NULL,
        seq        bigint NOT NULL,
        alert_id   text COLLATE "C" NOT NULL,
        PRIMARY KEY (tenant_id, seq, alert_id)
    )
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
