"""Detections and alerts (issue 18): rules as data, evaluated on each tenant's log.

    rules      a rule: a search phrase, a condition (a threshold in a window, or a
               first-seen combination), context values, business hours, a severity
    builtin    the rules every tenant has, on by default and tunable
    evaluate   rules over events in seq order, with their state as plain rows
    consumer   the log-follower consumer that evaluates a tenant's log and keeps the
               state, the alerts and its progress in one transaction

The use cases (rules, alerts, a replay of history) are ``AuditLog``'s; docs/detections.md
describes the rule syntax and every built-in rule.
"""

from sealtrail.detections.builtin import BUILTIN_RULES, builtin_rule
from sealtrail.detections.evaluate import AlertDraft, Evaluator, State
from sealtrail.detections.rules import (
    ALERT_ACTIONS,
    DetectionSettings,
    FirstSeen,
    Rule,
    Threshold,
    parse_condition,
    rule_from_body,
)

__all__ = [
    "ALERT_ACTIONS",
    "BUILTIN_RULES",
    "AlertDraft",
    "DetectionSettings",
    "Evaluator",
    "FirstSeen",
    "Rule",
    "State",
    "Threshold",
    "builtin_rule",
    "parse_condition",
    "rule_from_body",
]
