"""The JSON API (SPEC §6): one router per resource, each a thin translator over ``AuditLog``.

    live             the live tail of new events (Server-Sent Events)
    events           record, search, read one (with its proof), export
    ledger           the signed checkpoint, inclusion and consistency proofs
    catalog          the tenant's event types; registering its own
    viewer_sessions  minting a viewer link for one user of the tenant; revoking sessions
    erasures         erasing a data subject's personal fields, and its progress
    saved_searches   search phrases kept under a name, shared or private
    streams          delivering the trail to a SIEM: streams, tests, replays, delivery log
    detections       detection rules, their settings, replays; the alerts they open
    retention        the tenant's retention policy
    compat           the seed product's members audit-log endpoint
    health           liveness, readiness, metrics
    schemas          the shapes ``/openapi.json`` documents

Handlers authenticate (``sealtrail.server.deps``), parse the request and write
the response; every rule is ``AuditLog``'s.
"""

from __future__ import annotations

from fastapi import APIRouter

from sealtrail.api import (
    catalog,
    compat,
    detections,
    erasures,
    events,
    health,
    ledger,
    live,
    retention,
    saved_searches,
    streams,
    viewer_sessions,
)

ROUTERS: tuple[APIRouter, ...] = (
    live.router,  # before events: /v1/events/stream is not an event id
    events.router,
    ledger.router,
    catalog.router,
    viewer_sessions.router,
    erasures.router,
    saved_searches.router,
    streams.router,
    detections.router,
    retention.router,
    compat.router,
    health.router,
)
