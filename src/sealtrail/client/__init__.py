"""The Sealtrail Python SDK: record audit events from your app over HTTP.

    import sealtrail

    audit = sealtrail.Client("https://audit.example.com", api_key)
    audit.record(action="member.invited", actor="user:u_1", target="user:u_2")

``Client`` (threads) and ``AsyncClient`` (asyncio) queue events and send them
in batches in the background; ``context`` supplies actor, request and network
fields to every event recorded inside it. See docs/sdk.md.
"""

from sealtrail.client._async_client import AsyncClient
from sealtrail.client._base import ClientStats
from sealtrail.client._client import Client
from sealtrail.recording import (
    ActorDict,
    EventPayload,
    ResourceDict,
    TargetDict,
    build_event,
    context,
    current_context,
)

__all__ = [
    "ActorDict",
    "AsyncClient",
    "Client",
    "ClientStats",
    "EventPayload",
    "ResourceDict",
    "TargetDict",
    "build_event",
    "context",
    "current_context",
]
