"""PostgreSQL engine details beyond the shared contract: URLs, text escaping, replicas."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealtrail.errors import ConfigurationError
from sealtrail.query import EventQuery, Page
from sealtrail.store.base import Tenant
from sealtrail.store.postgres import PostgresStore
from sealtrail.store.postgres_admin import libpq_url, redacted, sqlalchemy_url
from sealtrail.store.postgres_rows import escape_text, unescape_text

from ..conftest import fresh_postgres_database
from .factory import T0, add_tenant, append, make_event


@given(st.text(alphabet=st.sampled_from("a\x00\uffff0 é")) | st.text())
def test_escaping_round_trips_and_never_leaves_a_nul(text: str) -> None:
    stored = escape_text(text)
    assert "\x00" not in stored
    assert unescape_text(stored) == text


def test_ordinary_text_is_stored_as_is() -> None:
    assert escape_text("Ada invited Bob — café") == "Ada invited Bob — café"


@pytest.mark.parametrize(
    ("url", "conninfo"),
    [
        (
            "postgresql://postgres@127.0.0.1:5432/db",
            "host=127.0.0.1 port=5432 user=postgres dbname=db",
        ),
        ("postgresql+psycopg://u:p%40ss%20w@h/db", "host=h user=u password='p@ss w' dbname=db"),
        ("postgres:///db?host=/run/postgresql", "host=/run/postgresql dbname=db"),
        (
            "postgresql://u@h/db?options=-c%20statement_timeout%3D5s&sslmode=require",
            "options='-c statement_timeout=5s' sslmode=require host=h user=u dbname=db",
        ),
    ],
)
def test_urls_become_libpq_connection_strings(url: str, conninfo: str) -> None:
    assert libpq_url(url) == conninfo


def test_sqlalchemy_gets_the_psycopg_driver_and_logs_get_no_password() -> None:
    url = "postgresql://u:secret@h:5433/db"
    assert sqlalchemy_url(url).drivername == "postgresql+psycopg"
    assert sqlalchemy_url(url).password == "secret"
    assert "secret" not in redacted(url)


@pytest.mark.parametrize("url", ["sqlite:///x.db", "postgresql://h", "not a url"])
def test_other_urls_are_refused_by_name(url: str) -> None:
    with pytest.raises(ConfigurationError):
        PostgresStore(url)


# -- against a server ----------------------------------------------------------------


@pytest.fixture
def other_url(postgres_server: str) -> Iterator[str]:
    with fresh_postgres_database(postgres_server) as url:
        yield url


@pytest.mark.postgres
def test_searches_read_the_replica_and_everything_else_the_primary(
    postgres_url: str, other_url: str
) -> None:
    # Two independent databases stand in for a primary and its standby, so
    # each read shows which one answered.
    for url, ident in ((postgres_url, "on-primary"), (other_url, "on-replica")):
        setup = PostgresStore(url)
        setup.migrate()
        add_tenant(setup)
        append(setup, "acme", make_event("acme", ident))
        setup.close()
    store = PostgresStore(postgres_url, read_url=other_url)
    try:
        assert [e.id for e in store.search("acme", EventQuery(), Page()).events] == ["on-replica"]
        assert [e.id for c in store.stream("acme", EventQuery()) for e in c] == ["on-replica"]
        assert store.get_event("acme", "on-primary") is not None
        assert [e.id for c in store.scan("acme") for e, _ in c] == ["on-primary"]
        assert append(store, "acme", make_event("acme", "new"))[0].seq == 1
    finally:
        store.close()


@pytest.mark.postgres
def test_names_with_nul_survive(pg: PostgresStore) -> None:
    pg.create_tenant(Tenant("nul", "A\x00B\uffff", T0))
    tenant = pg.get_tenant("nul")
    assert tenant is not None and tenant.name == "A\x00B\uffff"


@pytest.mark.postgres
def test_an_abandoned_stream_gives_its_connection_back(postgres_url: str) -> None:
    store = PostgresStore(postgres_url, max_connections=1, pool_timeout=5)
    store.migrate()
    try:
        add_tenant(store)
        append(store, "acme", *(make_event("acme", f"e{i}") for i in range(10)))
        chunks = store.stream("acme", EventQuery(), chunk_size=2)
        assert len(next(chunks)) == 2
        chunks.close()  # type: ignore[attr-defined]
        assert store.count("acme", EventQuery()) == 10  # the one connection is free again
    finally:
        store.close()
