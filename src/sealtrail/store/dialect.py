"""What differs between the SQL the two engines speak, and nothing else.

The shared core (``sql.SQLStore``, ``filters.compile_where``) writes every
statement once, with ``?`` placeholders; a ``Dialect`` supplies the few
pieces where SQLite and PostgreSQL part ways. Each engine module defines its
one instance (``sqlite.DIALECT``, ``postgres.DIALECT``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sealtrail.events import Event
from sealtrail.store.codec import from_row

Clause = tuple[str, list[Any]]


def _same(text: str) -> str:
    return text


def unchanged_row(row: Sequence[Any]) -> Sequence[Any]:
    return row


@dataclass(frozen=True, slots=True)
class Dialect:
    # Statements: the driver's placeholder, the clause that locks a read row.
    placeholder: str
    for_update: str
    # Driver errors mapped to domain errors.
    unique_violation: type[Exception]
    foreign_key_violation: tuple[type[Exception], ...]
    undefined_table: type[Exception]
    # Filters: boolean literals, the prefix that keeps a column's index out of a
    # plan (SQLite's unary "+"; PostgreSQL has none), an ASCII-case-insensitive
    # equality on a column, an action prefix ("member.") and a free-text phrase.
    true: str
    false: str
    unindexed: str
    nocase_equals: Callable[[str], str]
    action_prefix: Callable[[str, str], Clause]  # (prefix, column)
    text_match: Callable[[str], Clause]
    # Whether a column's text holds a value, ASCII-case-insensitively (erasure).
    contains_nocase: Callable[[str], str]
    # The integers of a column holding a JSON array of them, as a one-column subquery.
    json_integers: Callable[[str], str]
    # A page whose matches are sorted by what the driving index holds, then only its
    # rows read (``Plan.rows_last``): (source, where, order, direction) -> the SELECT,
    # whose last two parameters are the inner LIMIT and OFFSET.
    rows_last: Callable[[str, str, str, str], str]
    # Whether an id-or-email OR may be read as a union of the rowids each column's
    # index finds (SQLite, which without statistics never picks its MULTI-INDEX OR
    # for it; PostgreSQL's planner ORs the two index scans itself).
    union_ors: bool = False
    # Text as stored: every string bound for a text column, and read back.
    escape: Callable[[str], str] = _same
    unescape: Callable[[str], str] = _same
    event_from_row: Callable[[Sequence[Any]], Event] = from_row
    # A stored row (``codec.COLUMNS``) with its text unescaped: what ``codec.from_row`` reads.
    unescape_row: Callable[[Sequence[Any]], Sequence[Any]] = unchanged_row
