"""Prometheus metrics for one API process (``GET /metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "sealtrail_http_requests",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "sealtrail_http_request_seconds",
            "HTTP request latency by route.",
            ["method", "route"],
            registry=self.registry,
        )
        self.events_ingested = Counter(
            "sealtrail_events_ingested",
            "Events stored (idempotent resends excluded).",
            registry=self.registry,
        )
        self.events_duplicate = Counter(
            "sealtrail_events_duplicate",
            "Events resent with an id the tenant already had.",
            registry=self.registry,
        )
        self.api_key_reads = Counter(
            "sealtrail_api_key_reads",
            "Searches and reads made with API keys (recorded here, not as events).",
            ["endpoint"],
            registry=self.registry,
        )
        self.exported_rows = Counter(
            "sealtrail_exported_events",
            "Events written to exports.",
            ["format"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
