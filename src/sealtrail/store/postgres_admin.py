"""Operator-side PostgreSQL chores: database URLs and the runtime role.

``sealtrail migrate`` runs as the schema owner. After the Alembic revisions it
(re)creates the runtime role and grants it exactly what ``serve`` needs:

=============================  ==================================================
events, event_ids,             SELECT, INSERT — the log only ever grows
tree_nodes, checkpoints
tenants                        SELECT, INSERT; UPDATE of (tree_size, frontier),
                               which the head-row lock of an append also needs
api_keys                       SELECT, INSERT; UPDATE of (revoked_at,
                               last_used_at)
tenant_rate_limits             SELECT (the operator sets them)
rate_counters                  SELECT, INSERT, UPDATE, DELETE — rate limits
                               shared by every API process
event_types                    SELECT, INSERT; UPDATE of the non-key columns
log_consumers                  SELECT, INSERT, UPDATE, DELETE — cursors and leases
alembic_version                SELECT (readiness reports the schema revision)
sealtrail_ensure_partitions    EXECUTE (SECURITY DEFINER: creates month
                               partitions ahead without owning the table)
erasures                       SELECT, INSERT, UPDATE (erasure jobs' progress)
streams, stream_deliveries     SELECT, INSERT, UPDATE, DELETE — stream settings
                               and their bounded delivery log
sealtrail_erase                EXECUTE (SECURITY DEFINER: clears personal fields
                               of events, keeping their commitments; the one
                               change to an event the role can make)
saved_searches                 SELECT, INSERT, DELETE (saved searches come and go)
detection_rules, _settings,    SELECT, INSERT, UPDATE, DELETE — rules, their
_progress, _state, alerts,     state and alerts (detections)
alert_events
viewer_sessions                SELECT, INSERT; UPDATE of (cookie_hash,
                               redeemed_at, revoked_at, revoked_by): a link is
                               redeemed once, a session revoked
retention_rules                SELECT, INSERT, DELETE (a policy is replaced whole)
legal_holds                    SELECT, INSERT; UPDATE of (released_at, released_by)
prunes                         SELECT, INSERT; UPDATE of (finished_at, deleted)
sealtrail_prune                EXECUTE (SECURITY DEFINER: keeps the leaf hashes of
                               a tenant's lowest events below its recorded prune,
                               then deletes them and takes them off both counts;
                               the one delete the role can make)
sealtrail_drop_pruned_         EXECUTE (SECURITY DEFINER: drops a past month's
partitions                     partition only when every row in it is pruned,
                               taking its rows off both counts)
event_counts                   SELECT, INSERT; UPDATE of (events): an append adds
                               its batch to the timeline's counts (the prune
                               functions take pruned rows off)
event_day_counts               SELECT (the same counts per day; a trigger on
                               event_counts, SECURITY DEFINER, keeps it)
actor_day_counts               SELECT, INSERT; UPDATE of (events): an append adds
                               its batch to each actor's day counts (the prune
                               functions take pruned rows off)
=============================  ==================================================

The role is NOLOGIN: a login role that is a member of it is what ``serve``
connects as (see docs/operations.md). Granting is idempotent, so running
``migrate`` again after a restore or a new revision re-applies it.
"""

from __future__ import annotations

import logging
from typing import Final

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy import make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError

from sealtrail.errors import ConfigurationError

log = logging.getLogger(__name__)

DEFAULT_RUNTIME_ROLE: Final = "sealtrail_runtime"

_GRANTS: Final = (
    "GRANT USAGE ON SCHEMA {schema} TO {role}",
    "GRANT SELECT, INSERT ON {schema}.events, {schema}.event_ids, {schema}.tree_nodes,"
    " {schema}.checkpoints TO {role}",
    "GRANT SELECT, INSERT ON {schema}.tenants, {schema}.api_keys, {schema}.event_types,"
    " {schema}.event_type_versions TO {role}",
    "GRANT UPDATE (tree_size, frontier) ON {schema}.tenants TO {role}",
    "GRANT UPDATE (revoked_at, last_used_at) ON {schema}.api_keys TO {role}",
    "GRANT SELECT ON {schema}.tenant_rate_limits TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.rate_counters TO {role}",
    "GRANT UPDATE (category, kind, description, expects_target, resource_type)"
    " ON {schema}.event_types TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.log_consumers TO {role}",
    "GRANT SELECT ON {schema}.alembic_version TO {role}",
    "GRANT EXECUTE ON FUNCTION {schema}.sealtrail_ensure_partitions(integer) TO {role}",
    "GRANT SELECT, INSERT, UPDATE ON {schema}.erasures TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.streams, {schema}.stream_deliveries"
    " TO {role}",
    "GRANT EXECUTE ON FUNCTION {schema}.sealtrail_erase(text, bigint[], bytea[]) TO {role}",
    "GRANT SELECT, INSERT, DELETE ON {schema}.saved_searches TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.detection_rules,"
    " {schema}.detection_settings, {schema}.detection_progress, {schema}.detection_state,"
    " {schema}.alerts, {schema}.alert_events TO {role}",
    "GRANT SELECT, INSERT ON {schema}.viewer_sessions TO {role}",
    "GRANT UPDATE (cookie_hash, redeemed_at, revoked_at, revoked_by)"
    " ON {schema}.viewer_sessions TO {role}",
    "GRANT SELECT, INSERT, DELETE ON {schema}.retention_rules TO {role}",
    "GRANT SELECT, INSERT ON {schema}.legal_holds TO {role}",
    "GRANT UPDATE (released_at, released_by) ON {schema}.legal_holds TO {role}",
    "GRANT SELECT, INSERT ON {schema}.prunes TO {role}",
    "GRANT UPDATE (finished_at, deleted) ON {schema}.prunes TO {role}",
    "GRANT EXECUTE ON FUNCTION {schema}.sealtrail_prune(text, integer) TO {role}",
    "GRANT EXECUTE ON FUNCTION {schema}.sealtrail_drop_pruned_partitions() TO {role}",
    "GRANT SELECT, INSERT ON {schema}.event_counts TO {role}",
    "GRANT UPDATE (events) ON {schema}.event_counts TO {role}",
    "GRANT SELECT ON {schema}.event_day_counts TO {role}",
    "GRANT SELECT, INSERT ON {schema}.actor_day_counts TO {role}",
    "GRANT UPDATE (events) ON {schema}.actor_day_counts TO {role}",
)


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"not a database URL: {url!r}") from exc
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ConfigurationError(f"not a PostgreSQL URL: {parsed!r}")
    if not parsed.database:
        raise ConfigurationError(f"the PostgreSQL URL names no database: {parsed!r}")
    return parsed


def libpq_url(url: str) -> str:
    """``postgresql[+driver]://…`` as a libpq connection string (what psycopg takes).

    Query parameters pass through as libpq keywords (``sslmode``, ``options``,
    ``application_name`` …); a repeated one (several ``host``s) is joined with commas.
    """
    parsed = _parse(url)
    params: dict[str, str | int | None] = {
        key: ",".join(value) if isinstance(value, tuple) else value
        for key, value in parsed.query.items()
    }
    for key, value in (
        ("host", parsed.host),
        ("port", parsed.port),
        ("user", parsed.username),
        ("password", parsed.password),
        ("dbname", parsed.database),
    ):
        if value is not None:
            params[key] = value
    return make_conninfo("", **params)


def sqlalchemy_url(url: str) -> URL:
    """The same database for SQLAlchemy and Alembic, on the psycopg 3 driver."""
    return _parse(url).set(drivername="postgresql+psycopg")


def redacted(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return _parse(url).render_as_string(hide_password=True)


def grant_runtime_role(connection: psycopg.Connection[tuple[object, ...]], role: str) -> bool:
    """Create ``role`` (NOLOGIN) if missing and grant it the runtime privileges.

    Returns False, having logged why, when the connecting user may not create
    roles and the role does not exist yet; the schema is usable either way.
    """
    schema = connection.execute("SELECT current_schema()").fetchone()
    assert schema is not None
    names = {"schema": sql.Identifier(str(schema[0])), "role": sql.Identifier(role)}
    with connection.transaction():
        exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
        if exists.fetchone() is None:
            try:
                with connection.transaction():
                    connection.execute(sql.SQL("CREATE ROLE {role} NOLOGIN").format(**names))
            except psycopg.errors.InsufficientPrivilege:
                log.warning(
                    "cannot create the runtime role %s (the migrating user lacks CREATEROLE);"
                    " create it and run migrate again: CREATE ROLE %s NOLOGIN",
                    role,
                    role,
                )
                return False
            except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
                pass  # another database on this server created it just now
        for grant in _GRANTS:
            connection.execute(sql.SQL(grant).format(**names))
    return True
