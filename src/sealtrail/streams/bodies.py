"""Webhook bodies: a batch as one JSON document, as NDJSON, or as the seed endpoint's page.

Every body carries the batch header (``Batch.header()``): ``type`` ("sealtrail.batch"),
``tenant_id``, ``first_seq``, ``last_seq``, ``count``, ``checkpoint`` and, when the
sender has one, ``consistency_proof``.

- **JSON**: the header with ``format`` and ``events`` (an array of encoded events) added.
- **NDJSON**: the header (with ``format``) on the first line, then one encoded event a
  line; a receiver tells the header from events by its ``type`` member.
- **Seed page**: ``{"events", "total", "limit", "offset"}`` as the seed product's
  audit-log endpoint returns it (the same event objects), a page complete in itself, with
  the header's members beside them.

Bodies are bytes: the exact bytes that get signed are the bytes that get sent.
"""

from __future__ import annotations

from typing import Final

import orjson

from sealtrail.errors import InvalidInput
from sealtrail.streams.batch import Batch
from sealtrail.streams.encoders import EventEncoder, SealtrailJson

__all__ = [
    "JSON_MEDIA_TYPE",
    "NDJSON_MEDIA_TYPE",
    "json_body",
    "ndjson_body",
    "seed_page_body",
]

JSON_MEDIA_TYPE: Final = "application/json"
NDJSON_MEDIA_TYPE: Final = "application/x-ndjson"


def json_body(batch: Batch, encoder: EventEncoder) -> bytes:
    """The batch as one JSON object: header, ``format`` and ``events``."""
    body = batch.header()
    body["format"] = encoder.name
    body["events"] = [encoder.encode(event) for event in batch.events]
    return orjson.dumps(body)


def ndjson_body(batch: Batch, encoder: EventEncoder) -> bytes:
    """The header line, then one JSON object a line; every line ends with ``\\n``."""
    header = batch.header()
    header["format"] = encoder.name
    lines = [orjson.dumps(header)]
    for event in batch.events:
        encoded = encoder.encode(event)
        if not isinstance(encoded, dict):
            raise InvalidInput(f"the {encoder.name} format is text; NDJSON carries JSON objects")
        lines.append(orjson.dumps(encoded))
    return b"\n".join(lines) + b"\n"


def seed_page_body(batch: Batch) -> bytes:
    """The seed endpoint's page shape, so a client of that endpoint reads a batch as-is."""
    events = [SealtrailJson().encode(event) for event in batch.events]
    body = {
        "events": events,
        "total": len(events),
        "limit": len(events),
        "offset": 0,
        **batch.header(),
    }
    return orjson.dumps(body)
