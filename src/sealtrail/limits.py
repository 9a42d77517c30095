"""Every limit and fixed vocabulary of Sealtrail, named once.

The validators (``events``, ``catalog``, ``query``), the OpenAPI document
(``sealtrail.api.schemas``), the CLI's options and the SDK all read them from
here, so a limit cannot say one thing in the docs and do another at the door.
"""

from __future__ import annotations

import re
from typing import Final, Literal, get_args

# -- an event (SPEC §2) --------------------------------------------------------------
MAX_BATCH: Final = 1000
"""Events in one ``POST /v1/events`` batch, one CLI ingest batch, one SDK batch."""
MAX_ID: Final = 64
MAX_ACTION: Final = 128
MAX_TYPE: Final = 64
MAX_NAME: Final = 256
MAX_EMAIL: Final = 320
MAX_DESCRIPTION: Final = 1000
"""An event's description, and a catalog type's description template."""
MAX_USER_AGENT: Final = 1024
MAX_CONTEXT_BYTES: Final = 64 * 1024
MAX_JSON_DEPTH: Final = 32

EARLIEST_OCCURRED_AT: Final = 0
"""An event's ``occurred_at`` is 1970-01-01T00:00:00Z or later (µs since the epoch).
How far it may lie ahead of the server's clock is the ``max_clock_skew`` setting."""

ACTION_REGEX: Final = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
"""An action (an event type's name): ``resource.verb``, lower case, dotted."""
ACTION_PATTERN: Final = re.compile(ACTION_REGEX)

SLUG_REGEX: Final = r"^[a-z][a-z0-9_]*$"
"""A catalog category's slug, and a registered type's ``resource_type``."""

ActorType = Literal["user", "system", "api_key", "service"]
ACTOR_TYPES: Final[tuple[ActorType, ...]] = get_args(ActorType)
Outcome = Literal["success", "failure"]
OUTCOMES: Final[tuple[Outcome, ...]] = get_args(Outcome)
Kind = Literal["create", "update", "delete", "access", "other"]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)

# -- reading -------------------------------------------------------------------------
DEFAULT_PAGE: Final = 50
MAX_PAGE: Final = 200
"""Events on one page of a search (API, seed endpoint, viewer, CLI)."""
MAX_OFFSET: Final = 2**63 - 1
COUNT_CAP: Final = 10_000
"""Totals are exact up to here; past it a search reports ``None`` (counting costs more)."""

DEFAULT_BUCKETS: Final = 60
MAX_BUCKETS: Final = 200
"""Buckets of a timeline (``GET /v1/events/histogram?buckets=``): at most this many."""

VIEW_RECORD_WINDOW: Final = 600
"""Seconds within which a viewer session's repeated look at the same filters (or the
same event) is recorded once: access stays on record without burying the trail."""

TAIL_BATCH: Final = 500
"""Seqs of the log one look of the live tail reads (``AuditLog.tail``)."""
TAIL_POLL_SECONDS: Final = 0.5
"""How often the live tail (``GET /v1/events/stream``, the viewer's Live toggle) looks
for new events when it has caught up: the most a new event waits before it is sent."""
TAIL_PING_SECONDS: Final = 15
"""A live tail with nothing to send writes a comment this often, so proxies keep it open."""

ExportFormat = Literal["csv", "ndjson", "bundle"]
EXPORT_FORMATS: Final[tuple[ExportFormat, ...]] = get_args(ExportFormat)

# -- privacy (issue 13) ---------------------------------------------------------------
ERASED: Final = "[erased]"
"""What an erased personal field reads everywhere: the API, exports, the viewer."""
MAX_REASON: Final = 1000
"""The reason given for an erasure."""
ERASE_BATCH: Final = 500
"""Events erased per transaction: a large erasure never holds the writer for long."""
MASKED: Final = "[masked]"
"""What a masked context value reads: it was replaced before it was hashed or stored."""
DEFAULT_MASK_KEYS: Final = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "authorization",
    "cookie",
    "private_key",
)
"""Context keys whose values are masked at ingest unless configured otherwise."""

# -- saved searches (issue 15) ---------------------------------------------------------
MAX_SAVED_SEARCH_NAME: Final = 100
"""A saved search's name, in characters."""
MAX_SAVED_SEARCHES: Final = 200
"""Saved searches one tenant keeps: shared ones and every user's private ones together."""

# -- streams (issue 17) ---------------------------------------------------------------
StreamFormat = Literal["json", "ndjson", "ocsf", "cef"]
STREAM_FORMATS: Final[tuple[StreamFormat, ...]] = get_args(StreamFormat)
StreamDestinationType = Literal["webhook", "syslog"]
STREAM_DESTINATION_TYPES: Final[tuple[StreamDestinationType, ...]] = get_args(StreamDestinationType)
StreamState = Literal["active", "paused", "failing"]
"""What a stream shows (``stream_admin.StreamView.status``): ``paused`` by its owner,
``failing`` when its deliveries fail, else ``active``; only the first two can be set."""
DeliveryKind = Literal["batch", "test"]
"""An attempt of a stream's delivery log: a batch of the log, or a test message."""
MAX_STREAM_NAME: Final = 128
MAX_STREAM_URL: Final = 2048
MAX_STREAMS_PER_TENANT: Final = 20
"""Streams one tenant may have: each one is a follower (a thread) in a serving process."""
STREAM_BATCH: Final = 500
"""Events of the log one delivery covers at most."""
STREAM_PACE: Final = 0.25
"""Seconds a caught-up stream follower lets new events gather before reading again: a
busy log is delivered in a few batches a second rather than one per append, so each
batch's signed checkpoint, POST and cursor write serve many events."""
STREAM_DELIVERY_LOG: Final = 100
"""Attempts kept per stream in its delivery log (``GET /v1/streams/{id}/deliveries``);
older ones are dropped as new ones are recorded."""
MAX_SECRET_OVERLAP: Final = 30 * 86_400
"""The longest a rotated-out webhook secret keeps signing, in seconds."""
DEFAULT_SECRET_OVERLAP: Final = 86_400

# -- API keys (issue 16) --------------------------------------------------------------
KEY_LAST_USED_EVERY: Final = 60
"""Seconds between two writes of one key's ``last_used_at`` by one process: ``keys
list`` shows the last use to within a minute, and authenticating is no write per request."""
MAX_KEY_LIFETIME: Final = 10 * 366 * 86400
"""The longest ``--expires-in`` or ``--overlap`` (seconds): ten years."""
DEFAULT_ROTATION_OVERLAP: Final = 86400
"""How long a rotated key keeps working beside its replacement unless told (seconds)."""

# -- rate limits (issue 16; docs/operations.md) -----------------------------------------
RATE_WINDOW: Final = 10
"""Seconds of the sliding window every rate limit is counted over: a limit of N per
second allows N x RATE_WINDOW units in any such window, so a full batch fits."""
EXPORT_COST: Final = 10
"""Read units a CSV or NDJSON export costs (a search, an event, a proof cost 1)."""
BUNDLE_COST: Final = 30
"""Read units a verifiable bundle costs: it reads the log and its proofs."""
MIN_WRITE_RATE: Final = MAX_BATCH // RATE_WINDOW
"""The lowest write limit (events/s): one full batch must fit in a window."""
MIN_READ_RATE: Final = -(-BUNDLE_COST // RATE_WINDOW)
"""The lowest read limit (units/s): one bundle must fit in a window."""
MAX_RATE: Final = 10_000_000
# -- detections (issue 18) ------------------------------------------------------------
Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: Final[tuple[Severity, ...]] = get_args(Severity)
AlertStatus = Literal["open", "acknowledged", "resolved"]
ALERT_STATUSES: Final[tuple[AlertStatus, ...]] = get_args(AlertStatus)
MAX_RULES: Final = 100
"""A tenant's own detection rules, beside the built-in ones."""
MAX_RULE_NAME: Final = 64
RULE_NAME_REGEX: Final = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
"""A detection rule's name as sent; stored lower-case."""
MAX_RULE_TITLE: Final = 200
MAX_THRESHOLD: Final = 1000
"""The largest ``count >= N`` a rule may ask for (a window keeps at most N - 1 events)."""
MAX_WINDOW: Final = 7 * 24 * 3600
"""The longest ``within`` window, in seconds."""
MAX_GROUP_FIELDS: Final = 3
MAX_CONTEXT_VALUES: Final = 20
MAX_ALERT_EVENTS: Final = 100
"""Events kept on one alert; a burst that goes on is counted, not listed, past this."""
MAX_WINDOW_GROUPS: Final = 10_000
"""Open windows kept per rule (per actor, ip, …); the longest-idle go first."""
MAX_FIRST_SEEN: Final = 100_000
"""Remembered combinations per "first time" rule; the longest-unseen are forgotten."""
DEFAULT_LEARNING: Final = 7 * 24 * 3600
"""A "first time" rule's learning period (seconds): it only learns for this long after
the first event it sees, so a fresh log does not alert on everyone's first sign-in."""
DETECTION_BATCH: Final = 500
"""Events a detection consumer evaluates per transaction."""
DETECTION_PACE: Final = 0.5
"""Seconds a caught-up detection follower lets new events gather before reading again."""
MAX_REPLAY_EVENTS: Final = 1_000_000
"""Events ``detections test`` replays at most."""

# -- viewer sessions (issue 16) ---------------------------------------------------------
MAX_FRAME_ANCESTORS: Final = 10
"""Origins a tenant may let frame its viewer (``frame-ancestors``)."""
# -- retention and pruning (issue 13) ----------------------------------------------------
MAX_RETENTION_DAYS: Final = 36_500
"""The longest retention a policy may name (a hundred years); no policy keeps forever."""
MAX_RETENTION_RULES: Final = 64
RETENTION_PREFIX_REGEX: Final = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.?$"
"""Action-prefix rules in one tenant's retention policy."""
PRUNE_BATCH: Final = 5000
"""Events deleted per transaction when pruning: never one giant DELETE."""
PRUNE_SCAN: Final = 10_000
"""Events read per step while looking for the first one that must be kept."""

# -- a hot standby (issue 16) -------------------------------------------------------------
REPLICA_WAIT: Final = 1.0
"""Seconds a search or export after a write of the same process waits for the standby
(``read_database_url``) to replay that write before it reads from the primary instead."""
