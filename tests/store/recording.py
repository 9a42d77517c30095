"""Every statement a PostgreSQL store's connections send, in order: round trips counted,
not timed (the pool's check included, which sends an empty statement)."""

from __future__ import annotations

from typing import Any

import psycopg


class Sent(list[str]):
    """The statements sent, whitespace folded; ``configure`` installs the recording on a
    connection (``PostgresStore(..., configure=sent.configure)``)."""

    def configure(self, connection: psycopg.Connection[Any]) -> None:
        sent = self

        class Recording(psycopg.Cursor[Any]):
            def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
                sent.append(" ".join(str(query).split()))
                return super().execute(query, params, **kwargs)

        connection.cursor_factory = Recording
