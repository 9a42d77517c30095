"""The SDK's curated surface: what ``sealtrail.client`` and ``sealtrail.integrations`` export."""

from __future__ import annotations

import sealtrail.client
import sealtrail.integrations
import sealtrail.recording


def test_client_package_exports() -> None:
    assert sorted(sealtrail.client.__all__) == [
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
    for name in sealtrail.client.__all__:
        assert getattr(sealtrail.client, name) is not None
    assert sealtrail.client.context is sealtrail.recording.context
    assert sealtrail.client.build_event is sealtrail.recording.build_event


def test_recording_and_integrations_exports_exist() -> None:
    for module in (sealtrail.recording, sealtrail.integrations):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
