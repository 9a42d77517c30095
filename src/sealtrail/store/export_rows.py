"""Export cells and records straight from stored rows, without an ``Event`` per row.

Each engine has the database write an export's lines (``store.sqlite_export``,
``store.postgres_export``); the rows it cannot write the same way (an erased
field, an odd time, text it would cut or stores escaped) are written here, by
``written``, from the columns the store reads back. For a row with no erased
field, ``csv_cells`` and ``record`` read the columns the way ``codec.from_row``
followed by ``Event.to_dict`` would, value for value and (for NDJSON) key for
key, so the bytes written are the same; a row with an erased field goes through
``from_row`` and ``to_dict`` themselves (``[erased]`` in the erased fields). CSV
injection is handled after this, by ``export.csv_chunks``, for every cell
alike. tests/test_export_rows.py holds the paths equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import orjson

from sealtrail.events import format_timestamp
from sealtrail.export import csv_cells as event_csv_cells
from sealtrail.export import csv_chunks, ndjson_chunks
from sealtrail.store.codec import from_row


def csv_cells(row: Sequence[Any]) -> list[Any]:
    """The CSV cells of a stored row (``export.csv_cells`` of its event object)."""
    (
        tenant_id,
        seq,
        ident,
        action,
        category,
        kind,
        occurred_at,
        received_at,
        outcome,
        actor_type,
        actor_id,
        actor_role,
        actor_name,
        actor_email,
        target_type,
        target_id,
        target_name,
        target_email,
        resource_type,
        resource_id,
        resource_name,
        account_id,
        description,
        context,
        ip,
        _ip_key,
        user_agent,
        request_id,
        _salts,
        commitments,
        _leaf_hash,
    ) = row
    if commitments:
        return event_csv_cells(from_row(row).to_dict())
    if context is not None:
        value = orjson.loads(context)
        context = None if value is None else orjson.dumps(value).decode()
    return [
        "" if seq is None else str(seq),
        ident or "",
        format_timestamp(occurred_at),
        format_timestamp(received_at),
        action or "",
        category or "",
        kind or "",
        outcome or "",
        actor_type or "",
        actor_id or "",
        actor_name or "",
        actor_email or "",
        actor_role or "",
        target_type or "",
        target_id or "",
        target_name or "",
        target_email or "",
        resource_type or "",
        resource_id or "",
        resource_name or "",
        account_id or "",
        description or "",
        ip or "",
        user_agent or "",
        request_id or "",
        context or "",
        tenant_id or "",
    ]


def record(row: Sequence[Any]) -> dict[str, Any]:
    """The API's JSON object of a stored row (``Event.to_dict`` of ``from_row``)."""
    (
        tenant_id,
        seq,
        ident,
        action,
        category,
        kind,
        occurred_at,
        received_at,
        outcome,
        actor_type,
        actor_id,
        actor_role,
        actor_name,
        actor_email,
        target_type,
        target_id,
        target_name,
        target_email,
        resource_type,
        resource_id,
        resource_name,
        account_id,
        description,
        context,
        ip,
        _ip_key,
        user_agent,
        request_id,
        _salts,
        commitments,
        _leaf_hash,
    ) = row
    if commitments:
        return from_row(row).to_dict()
    actor: dict[str, Any] = {"type": actor_type, "id": actor_id}
    if actor_role is not None:
        actor["role"] = actor_role
    if actor_name is not None:
        actor["name"] = actor_name
    if actor_email is not None:
        actor["email"] = actor_email
    out: dict[str, Any] = {
        "id": ident,
        "seq": seq,
        "tenant_id": tenant_id,
        "action": action,
        "category": category,
        "kind": kind,
        "occurred_at": format_timestamp(occurred_at),
        "received_at": format_timestamp(received_at),
        "outcome": outcome,
        "actor": actor,
    }
    if (
        target_type is not None
        or target_id is not None
        or target_name is not None
        or target_email is not None
    ):
        target: dict[str, Any] = {"type": target_type, "id": target_id}
        if target_name is not None:
            target["name"] = target_name
        if target_email is not None:
            target["email"] = target_email
        out["target"] = target
    if resource_type is not None or resource_id is not None or resource_name is not None:
        resource: dict[str, Any] = {"type": resource_type, "id": resource_id}
        if resource_name is not None:
            resource["name"] = resource_name
        out["resource"] = resource
    if account_id is not None:
        out["account_id"] = account_id
    if description is not None:
        out["description"] = description
    if context is not None:
        value = orjson.loads(context)
        if value is not None:
            out["context"] = value
    if ip is not None:
        out["ip"] = ip
    if user_agent is not None:
        out["user_agent"] = user_agent
    if request_id is not None:
        out["request_id"] = request_id
    return out


def written(row: Sequence[Any], fmt: Literal["csv", "ndjson"]) -> bytes:
    """One row's CSV row (neutralised, quoted) or NDJSON line: what an engine that
    writes its lines itself leaves to this path (store.sqlite_export, postgres_export)."""
    if fmt == "csv":
        return b"".join(csv_chunks([row], header=False, cells_of=csv_cells))
    return b"".join(ndjson_chunks([record(row)]))


__all__ = ["csv_cells", "record", "written"]
