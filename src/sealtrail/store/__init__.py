"""Where events live: one contract (``base.EventStore``), two engines, one SQL core.

=================  ==========================================================
``base``           the contract and the records it speaks in
``sql``            ``SQLStore``: every statement both engines share, once
``dialect``        ``Dialect``: the few places their SQL differs
``filters``        ``EventQuery`` → a WHERE clause, in a dialect
``codec``          ``Event`` ↔ the flat row both engines store
``sqlite``         connections (one writer thread), FTS5, the per-search plan
``postgres``       pools, COPY, partitions, bulk look-ups through ``event_ids``
``postgres_rows``  text escaping for what ``text`` cannot hold; COPY types
``postgres_admin`` database URLs and the runtime role
=================  ==========================================================
"""

from __future__ import annotations

from sealtrail.errors import ConfigurationError
from sealtrail.store.base import EventStore


def open_store(
    url: str,
    *,
    sqlite_cache_mib: int = 256,
    read_url: str | None = None,
    connect_timeout: float = 5.0,
) -> EventStore:
    """The engine a database URL names (``sqlite:///…`` or ``postgresql://…``).

    ``read_url`` names a PostgreSQL hot standby for searches and exports;
    SQLite has no replicas and ignores it. ``connect_timeout`` (seconds) bounds
    how long a PostgreSQL connection attempt may take before it is reported.
    """
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite" or scheme.startswith("sqlite+"):
        from sealtrail.store.sqlite import SQLiteStore

        return SQLiteStore(url, cache_mib=sqlite_cache_mib)
    if scheme in ("postgres", "postgresql") or scheme.startswith("postgresql+"):
        try:
            from sealtrail.store.postgres import PostgresStore
        except ImportError as exc:  # psycopg comes with the ``postgres`` extra
            raise ConfigurationError(
                "PostgreSQL needs the postgres extra: pip install 'sealtrail[postgres]'"
            ) from exc
        return PostgresStore(url, read_url=read_url, connect_timeout=connect_timeout)
    raise ConfigurationError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")


__all__ = ["EventStore", "open_store"]
