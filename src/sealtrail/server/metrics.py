"""Prometheus metrics for one API process (``GET /metrics``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from prometheus_client import Metric

    from sealtrail.audit_log import AuditLog


class SignerCollector(Collector):
    """The signer's refusals, read from the ``AuditLog`` at scrape time."""

    def __init__(self, audit_log: AuditLog) -> None:
        self._log = audit_log

    def collect(self) -> Iterator[Metric]:
        refused = GaugeMetricFamily(
            "sealtrail_signer_refused_tenants",
            "Tenants whose tree the signer refuses to sign: not an extension of what it signed.",
        )
        refused.add_metric([], len(self._log.signer_refusals(check=False)))
        yield refused
        total = CounterMetricFamily(
            "sealtrail_signer_refusals",
            "Times the signer refused to sign a tree in this process.",
        )
        total.add_metric([], self._log.signer_refusal_count())
        yield total
        submitter = self._log.witness_submitter()
        if submitter is not None:
            outcomes = CounterMetricFamily(
                "sealtrail_witness_submissions",
                "Checkpoints submitted to witnesses, by witness and outcome "
                "(cosigned, refused, unreachable, ahead, no_proof, bad_cosignature, conflict).",
                labels=["witness", "outcome"],
            )
            for (name, outcome), count in sorted(submitter.outcomes.items()):
                outcomes.add_metric([name, outcome], count)
            yield outcomes


class Metrics:
    def __init__(self, audit_log: AuditLog | None = None) -> None:
        self.registry = CollectorRegistry()
        if audit_log is not None:
            self.registry.register(SignerCollector(audit_log))
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
