"""Queries over the audit log, as data: filters, search phrases, time ranges, pages.

Nothing here knows SQL or HTTP. The edges turn what a user sent into an
``EventQuery`` and a ``Page`` (``query_from_params`` for the API's query
string, ``parse_phrase`` for a search phrase); the stores turn those into SQL.
Values are validated and normalised once, here; a bad parameter, time or cursor
raises ``InvalidQuery`` naming the parameter, and a phrase that does not parse
raises ``PhraseSyntaxError`` pointing at the offending token.

    model    Term, TimeRange, EventQuery, Page: the shapes a store translates
    values   Field, ResourceRef and each field's normal form
    times    dates and RFC 3339 times as range bounds
    phrase   the search-phrase grammar, both ways
    params   GET /v1/events (and export) and the seed product's endpoint
    cursor   opaque keyset cursors
"""

from sealtrail.query.cursor import Cursor, Order
from sealtrail.query.model import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    EventQuery,
    Page,
    Term,
    TimeRange,
    action_prefix,
)
from sealtrail.query.params import query_from_params, seed_query_from_params
from sealtrail.query.phrase import MAX_PHRASE_LENGTH, format_phrase, parse_phrase
from sealtrail.query.times import parse_time
from sealtrail.query.values import Field, IPNetwork, ResourceRef, TermValue, normalise_value

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MAX_PHRASE_LENGTH",
    "Cursor",
    "EventQuery",
    "Field",
    "IPNetwork",
    "Order",
    "Page",
    "ResourceRef",
    "Term",
    "TermValue",
    "TimeRange",
    "action_prefix",
    "format_phrase",
    "normalise_value",
    "parse_phrase",
    "parse_time",
    "query_from_params",
    "seed_query_from_params",
]
