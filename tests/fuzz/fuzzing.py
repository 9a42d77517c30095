"""The fuzz run, shared by the run itself and the test that shows it catches a failing handler.

Schemathesis's engine (what its command line runs, from Python) reads the document the
live server serves and goes through it phase by phase: the documented examples, the
coverage phase (each schema's boundaries, each parameter missing, methods the path
does not document), random cases, then scenarios along the document's links (record →
read it → prove it; create a stream → read, change, test, replay, delete it…). Every
response is checked: below 500, a documented status and content type, the documented
schema and headers, data the document allows is not refused for its shape and data it
forbids is refused, plus this project's own rule (``one_error_shape``).

(Schemathesis's pytest loader, ``schemathesis.pytest.from_fixture``, reads a node
attribute pytest 9.2 no longer has; the engine does not depend on pytest.)

``SEALTRAIL_FUZZ_EXAMPLES`` and ``SEALTRAIL_FUZZ_SEED`` change the bounds: ``make fuzz``
sets more examples and a random seed, and the run prints the seed to replay it.
"""

from __future__ import annotations

import os
import re
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
import schemathesis
from jsonschema import Draft202012Validator
from schemathesis import Case, CheckContext, Response
from schemathesis.engine import events, from_schema
from schemathesis.specs.openapi import checks as openapi_checks

from sealtrail.api.schemas import ErrorOut

DEFAULT_EXAMPLES: Final = 10
DEFAULT_SEED: Final = 20261206

ENDLESS: Final = ("/v1/events/stream",)
"""Never ends by itself, so the fuzzer would wait forever: test_endless_streams.py covers it."""

NOWHERE_PORT: Final = 9
"""The discard port on loopback: nothing listens there, a connection is refused at once."""

_ERROR: Final = Draft202012Validator(ErrorOut.model_json_schema())


@dataclass(frozen=True)
class FuzzRun:
    url: str
    key: str
    examples: int = DEFAULT_EXAMPLES
    seed: int = DEFAULT_SEED

    @classmethod
    def from_environment(cls, url: str, key: str) -> FuzzRun:
        """The bounds ``make fuzz`` sets (``random`` as the seed draws one), else the defaults."""
        examples = int(os.environ.get("SEALTRAIL_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
        seed_text = os.environ.get("SEALTRAIL_FUZZ_SEED", str(DEFAULT_SEED))
        seed = secrets.randbits(32) if seed_text == "random" else int(seed_text)
        return cls(url, key, examples, seed)


@dataclass
class FuzzReport:
    seed: int
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        return (
            f"seed {self.seed} (SEALTRAIL_FUZZ_SEED={self.seed} replays it): {self.requests} "
            f"requests over {len(self.operations)} operations in {self.seconds:.0f} s; {statuses}"
        )


def fuzz_schema(run: FuzzRun, only: Sequence[str] = ()) -> schemathesis.BaseSchema:
    """The live server's own document, as Schemathesis reads it, with this run's bounds
    (``only``: just the operations at these paths)."""
    config = schemathesis.Config.from_dict(
        {
            "seed": run.seed,
            "headers": {"Authorization": f"Bearer {run.key}"},
            "generation": {"max-examples": run.examples, "database": "none"},
            "request-timeout": 60,
            "workers": 1,
            # replaced by `schema_valid_accepted`, which knows the rules a schema cannot state,
            # and by `use_after_free_but_reset_rules`
            "checks": {
                "positive_data_acceptance": {"enabled": False},
                "use_after_free": {"enabled": False},
                "ensure_resource_availability": {"enabled": False},
            },
        }
    )
    loaded: schemathesis.BaseSchema = schemathesis.openapi.from_url(
        f"{run.url}/openapi.json", config=config
    )
    if only:
        loaded = loaded.include(path=list(only))
    return loaded.exclude(path=list(ENDLESS))


def fuzz(run: FuzzRun, only: Sequence[str] = ()) -> FuzzReport:
    """Every phase of Schemathesis over the served document; what every check found."""
    report = FuzzReport(run.seed)
    for event in from_schema(fuzz_schema(run, only)).execute():
        if isinstance(event, events.ScenarioFinished):
            _record(report, event)
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            report.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            report.seconds = event.running_time
            report.failures += [f"after the run: {f.title}: {f.message}" for f in event.failures]
    return report


def _record(report: FuzzReport, event: events.ScenarioFinished) -> None:
    recorder = event.recorder
    for interaction in recorder.interactions.values():
        report.requests += 1
        if interaction.response is not None:
            report.statuses[interaction.response.status_code] += 1
    for node in recorder.cases.values():
        report.operations.add(node.value.operation.label)
    seen = set()
    for checks in recorder.checks.values():
        for check in checks:
            info = check.failure_info
            if info is None:
                continue
            failure = info.failure
            line = f"{event.phase.value} · {recorder.label} · {check.name}: {failure.title}"
            if line in seen:
                continue
            seen.add(line)
            report.failures.append(f"{line}\n  {failure.message}\n  {info.code_sample}")


@schemathesis.check
def one_error_shape(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Every 4xx, documented for the operation or not (a 405 from the router), is
    ``{"error": {"code", "message", …}}`` in JSON and nothing else."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), (
        f"{response.status_code} sent as {content_type!r}, not the JSON error shape"
    )
    problems = [e.message for e in _ERROR.iter_errors(orjson.loads(response.content))]
    assert not problems, f"{response.status_code} is not the one error shape: {problems}"
    return True


SEMANTIC: Final[tuple[tuple[str, str, str], ...]] = (
    # (error code, what the message says, why JSON Schema cannot say it)
    ("invalid_query", r"^until must be later than since", "one parameter against another"),
    ("invalid_query", r"^need 0 <= first <= second <= \d+", "against the signed tree's size"),
    ("invalid_query", r"^give either offset or cursor, not both", "one parameter or the other"),
    ("invalid_query", r"^cursor is not valid", "opaque: only a next_cursor the server sent"),
    ("invalid_query", r"^ip: .* is not an IP address or network", "address or CIDR grammar"),
    ("invalid_query", r"^q: .* unterminated quote$", "free text: a quote must close"),
    ("invalid_phrase", r"", "the search phrase grammar (docs/api.md)"),
    ("invalid_saved_search", r"does not parse", "the search phrase grammar"),
    ("invalid_saved_search", r"belongs to a viewer's user", "private needs a viewer's user"),
    ("invalid_input", r"^the reason must not name the subject", "one field against another"),
    ("invalid_input", r"^(phrase|condition)\b", "the rule grammar (docs/detections.md)"),
    ("invalid_input", r"^condition .* is not 'count", "the rule grammar (docs/detections.md)"),
    ("invalid_input", r"is not an IANA time zone", "the time zone database"),
    ("invalid_input", r"^business hours .* are not like", "the business-hours grammar"),
    ("invalid_input", r"^a rule's name cannot be changed", "against the stored rule"),
    ("invalid_input", r"^a stream's destination type cannot change", "against the stored stream"),
    ("invalid_input", r"^only a webhook stream has a signing secret", "against the stored stream"),
    ("invalid_input", r"^from_seq must be an integer 0-\d+ \(the log's size\)", "the log's size"),
    ("invalid_input", r"^each action prefix may be named once", "unique by one member"),
    ("invalid_input", r"^event type .*: description has", "the description template grammar"),
    ("invalid_input", r"^signing is for webhook streams", "one field against another"),
    ("invalid_input", r"^signing\.secret\b", "key material: its encoding, length, scheme"),
    ("invalid_event", r"", "see EVENT_SEMANTIC"),
)
EVENT_SEMANTIC: Final = (
    ("occurred_at", r"^must be 1970-01-01|ahead of the server", "against the server's clock"),
    ("context", r"bytes|plain JSON|2\^53", "a free-form object's size and number range"),
)


def _semantic(error: dict[str, Any]) -> bool:
    """Whether a refusal is for a rule the document states in words only (``SEMANTIC``)."""
    code, message = error.get("code"), str(error.get("message", ""))
    if code == "invalid_event":
        details = error.get("details") or []
        return bool(details) and all(
            any(
                d.get("field") == f and re.search(p, d.get("message", ""))
                for f, p, _ in EVENT_SEMANTIC
            )
            for d in details
        )
    if code == "invalid_saved_search":
        details = error.get("details") or []
        return bool(details) and all(
            any(re.search(p, d.get("message", "")) for c, p, _ in SEMANTIC if c == code)
            for d in details
        )
    return any(c == code and re.search(p, message) for c, p, _ in SEMANTIC)


@schemathesis.check
def schema_valid_accepted(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A request the document allows is not refused as malformed (400/422), unless for a
    rule JSON Schema cannot state (``SEMANTIC``, each said in the document's words): the
    document must say what the code reads. (Schemathesis's own ``positive_data_acceptance``,
    which it replaces, cannot tell these apart.)"""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code not in (400, 422):
        return None
    error = orjson.loads(response.content).get("error", {})
    if _semantic(error):
        return True
    raise AssertionError(
        f"the document allows this request, the server refused it: {response.status_code} "
        f"{error.get('code')}: {error.get('message')} (parameter {error.get('parameter')}, "
        f"details {error.get('details')})"
    )


RESET_ON_DELETE: Final = "/v1/detections/{name}"
"""DELETE of a built-in rule puts it back to its defaults (200, documented): still there."""


@schemathesis.check
def use_after_free_but_reset_rules(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """Schemathesis's ``use_after_free`` (a resource read after its DELETE succeeded must
    be gone), except where a DELETE puts it back instead (``RESET_ON_DELETE``). Its own
    per-operation switch, an ``[[operations]]`` entry, would undo ``fuzz(only=…)``."""
    if case.operation.path == RESET_ON_DELETE:
        return None
    result: bool | None = openapi_checks.use_after_free(ctx, response, case)
    return result


@schemathesis.check
def ensure_resource_availability_by_canonical_name(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """Schemathesis's ``ensure_resource_availability`` (a resource just created can be
    read), except for a rule named in another case than the one it is kept in: rule
    names are kept lower-case (docs/detections.md), so ``XHDAZ70`` and ``xhdaz70`` are
    one rule, which Schemathesis cannot tell — it took a DELETE of ``xhdaz70`` followed
    by a PATCH of ``XHDAZ70`` (404, correctly) for a rule that was never there."""
    if case.operation.path == RESET_ON_DELETE:
        name = (case.path_parameters or {}).get("name")
        if isinstance(name, str) and name != name.lower():
            return None
    result: bool | None = openapi_checks.ensure_resource_availability(ctx, response, case)
    return result


_WEBHOOK_URL: Final = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(?P<path>(/[!#-~]*)?)$")
_SYSLOG_HOST: Final = re.compile(r"^[^\s/@\x00-\x1f\x7f]{1,253}$")


@schemathesis.hook
def before_call(context: Any, case: Case[Any], kwargs: dict[str, Any]) -> None:
    """Point a generated stream destination at loopback's discard port: ``POST
    /v1/streams/{id}/test`` sends at once, and a generated host is not ours to call. A value
    valid before stays valid (and an invalid one invalid), so no check is misled."""
    body = case.body
    if not case.path.startswith("/v1/streams") or not isinstance(body, dict):
        return
    destination = body.get("destination")
    if not isinstance(destination, dict):
        return
    url = destination.get("url")
    if isinstance(url, str) and (found := _WEBHOOK_URL.match(url)):
        destination["url"] = f"https://127.0.0.1:{NOWHERE_PORT}{found['path']}"
    host = destination.get("host")
    if isinstance(host, str) and _SYSLOG_HOST.match(host):
        destination["host"] = "127.0.0.1"
    port = destination.get("port")
    if isinstance(port, int) and not isinstance(port, bool) and 1 <= port <= 65535:
        destination["port"] = NOWHERE_PORT
