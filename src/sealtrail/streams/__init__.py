"""Streams: a tenant's trail, delivered to its SIEM.

Wire formats are pure functions of an event (or a batch) to bytes: ``SealtrailJson``,
``OcsfJson`` and ``Cef`` encode one event; ``json_body``/``ndjson_body``/``seed_page_body``
make a webhook body of a ``Batch``; ``syslog`` writes RFC 5424 messages with RFC 5425
framing; ``WebhookSigner`` signs per Standard Webhooks. Transports are separate:
``WebhookTransport`` (HTTPS) and ``SyslogTransport`` (TCP/TLS) each return a
``DeliveryResult`` saying whether a failure is worth retrying. See docs/streams.md.
"""

from sealtrail.streams.batch import BATCH_TYPE, Batch, ConsistencyProof
from sealtrail.streams.bodies import (
    JSON_MEDIA_TYPE,
    NDJSON_MEDIA_TYPE,
    json_body,
    ndjson_body,
    seed_page_body,
)
from sealtrail.streams.cef import Cef, to_cef
from sealtrail.streams.delivery import DeliveryResult, parse_retry_after, result_for_status
from sealtrail.streams.encoders import Encoded, EventEncoder, SealtrailJson
from sealtrail.streams.ocsf import OCSF_VERSION, OcsfJson, OcsfMapping, mapping_for, to_ocsf
from sealtrail.streams.severity import Severity, severity
from sealtrail.streams.signing import (
    Ed25519Secret,
    HmacSecret,
    RotatingKey,
    WebhookSigner,
    parse_secret,
    verify_ed25519,
)
from sealtrail.streams.syslog import SyslogFormat, batch_messages, event_message, frame
from sealtrail.streams.syslog_transport import SyslogTransport
from sealtrail.streams.webhook import WebhookTransport

__all__ = [
    "BATCH_TYPE",
    "JSON_MEDIA_TYPE",
    "NDJSON_MEDIA_TYPE",
    "OCSF_VERSION",
    "Batch",
    "Cef",
    "ConsistencyProof",
    "DeliveryResult",
    "Ed25519Secret",
    "Encoded",
    "EventEncoder",
    "HmacSecret",
    "OcsfJson",
    "OcsfMapping",
    "RotatingKey",
    "SealtrailJson",
    "Severity",
    "SyslogFormat",
    "SyslogTransport",
    "WebhookSigner",
    "WebhookTransport",
    "batch_messages",
    "event_message",
    "frame",
    "json_body",
    "mapping_for",
    "ndjson_body",
    "parse_retry_after",
    "parse_secret",
    "result_for_status",
    "seed_page_body",
    "severity",
    "to_cef",
    "to_ocsf",
    "verify_ed25519",
]
