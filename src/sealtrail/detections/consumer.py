"""Detections as a log-follower consumer: one per tenant, ``detection:<tenant>``.

The follower hands the consumer each range of the tenant's log; the consumer
evaluates the tenant's enabled rules over it and writes, in **one transaction**, the
state the range changed, the alerts it opened or extended, and its own progress
(``detection_progress``: the first seq not yet evaluated). The follower moves its
cursor only afterwards, so a crash between the two repeats the range — and the
consumer, finding its progress past it, skips what it already evaluated: nothing is
missed and nothing fires twice. Two processes on one range (a lease that ran out
under a stalled process) cannot both write it: the transaction only commits when the
progress is still where the evaluation started.

The consumer is ``Selective``: before each range it hands the follower a test of an
event's shape (action, category, kind, outcome) that the tenant's enabled rules could
select, so only those events are read and decoded; the range is evaluated, and marked
done, as a whole. The rules the test was made from are the ones that evaluate the range.

Each opened alert is then recorded in the tenant's own log as
``audit_log.alert_opened`` (so every stream carries it) with an id derived from the
alert's, so recording it twice stores it once; alerts not yet recorded are recorded
before the next range (the table is the outbox). The rules never see those events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import orjson

from sealtrail.detections.evaluate import AlertDraft, Evaluator, State
from sealtrail.detections.rules import DetectionSettings, Rule
from sealtrail.events import Event, now_micros
from sealtrail.follower import LogBatch, Outcome, ShapeFilter
from sealtrail.store.base import (
    AlertGrowth,
    AlertRecord,
    DetectionCommit,
    EventStore,
    StateChange,
)

__all__ = ["CONSUMER_PREFIX", "DetectionConsumer", "consumer_name", "drafts_to_commit"]

log = logging.getLogger(__name__)

CONSUMER_PREFIX = "detection:"

RuleSource = Callable[[str], tuple[Sequence[Rule], DetectionSettings]]
Publish = Callable[[str, Sequence[AlertRecord]], None]


def consumer_name(tenant_id: str) -> str:
    return f"{CONSUMER_PREFIX}{tenant_id}"


def _record(tenant_id: str, draft: AlertDraft, now: int) -> AlertRecord:
    return AlertRecord(
        tenant_id=tenant_id,
        id=draft.id,
        rule=draft.rule,
        severity=draft.severity,
        title=draft.title,
        group=draft.group,
        status="open",
        opened_at=now,
        updated_at=now,
        first_at=min(at for _, _, at in draft.events),
        last_at=max(at for _, _, at in draft.events),
        event_ids=tuple(ident for _, ident, _ in draft.events),
        event_seqs=tuple(seq for seq, _, _ in draft.events),
        event_count=draft.count,
    )


def drafts_to_commit(
    tenant_id: str,
    evaluator: Evaluator,
    state: State,
    drafts: Sequence[AlertDraft],
    events: Sequence[Event],
    now: int,
) -> DetectionCommit:
    changes = [
        StateChange(rule, key, orjson.dumps(row.value).decode(), row.seen_at, row.expires_at)
        for (rule, key), row in state.dirty.items()
        if row.value is not None
    ]
    opened = [_record(tenant_id, d, now) for d in drafts if d.new]
    grown = [
        AlertGrowth(
            d.id,
            tuple(seq for seq, _, _ in d.events),
            tuple(ident for _, ident, _ in d.events),
            d.count,
            max(at for _, _, at in d.events),
        )
        for d in drafts
        if not d.new and d.events
    ]
    return DetectionCommit(
        state=changes,
        opened=opened,
        grown=grown,
        expire_before=min((e.occurred_at for e in events), default=None),
        caps={c.rule: evaluator.cap(c.rule) for c in changes},
    )


class DetectionConsumer:
    """The consumer of one tenant's log for its detection rules."""

    def __init__(
        self,
        store: EventStore,
        tenant_id: str,
        *,
        rules: RuleSource,
        publish: Publish,
        clock: Callable[[], int] = now_micros,
        on_committed: Callable[[LogBatch], None] | None = None,
    ) -> None:
        self.store = store
        self.tenant_id = tenant_id
        self.name = consumer_name(tenant_id)
        self._rules = rules
        self._publish = publish
        self._clock = clock
        self._on_committed = on_committed
        self._next: Evaluator | None = None

    def _evaluator(self) -> Evaluator:
        rules, settings = self._rules(self.tenant_id)
        return Evaluator(rules, settings)

    def shape_filter(self) -> ShapeFilter:
        """What the next range's events must look like for an enabled rule to select
        them (``follower.Selective``); that range is evaluated with these same rules."""
        self._next = self._evaluator()
        return self._next.could_hit

    def publish_pending(self) -> None:
        """Record the alerts opened but not yet in the tenant's log."""
        pending = self.store.unpublished_alerts(self.tenant_id)
        if pending:
            self._publish(self.tenant_id, pending)
            self.store.mark_alerts_published(self.tenant_id, [a.id for a in pending])

    def __call__(self, batch: LogBatch) -> Outcome:
        evaluator, self._next = self._next or self._evaluator(), None
        self.publish_pending()
        progress = self.store.detection_progress(self.tenant_id, self.name)
        if progress > batch.last_seq:
            return Outcome.success()  # evaluated before a crash; the cursor catches up
        events = [e for e in batch.events if e.seq >= progress]
        hits = evaluator.hits(events)
        loaded = self.store.detection_state(self.tenant_id, sorted(evaluator.needed(hits)))
        state = State({key: orjson.loads(value) for key, value in loaded.items()})
        drafts = evaluator.run(hits, state)
        now = self._clock()
        commit = drafts_to_commit(self.tenant_id, evaluator, state, drafts, events, now)
        done = self.store.commit_detections(
            self.tenant_id, self.name, progress, batch.last_seq + 1, commit, now
        )
        if not done:
            log.info("detections %s: range %d.. evaluated elsewhere", self.tenant_id, progress)
            return Outcome.success()
        if self._on_committed is not None:
            self._on_committed(batch)
        if commit.opened:
            self.publish_pending()
        return Outcome.success()
