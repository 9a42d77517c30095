"""A small, realistic organisation's week of events, shared by the HTTP and browser tests.

Times are relative to "now" so relative times read naturally in the page and in
its screenshots. Two accounts (``acc_hq``, ``acc_eu``) let the account-admin
tests check scope; one event carries hostile markup.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

HOSTILE: Final = "<script>alert(1)</script><img src=x onerror=alert(2)>"
HOSTILE_ID: Final = "evt_hostile"
ROLE_CHANGE_ID: Final = "evt_role_change"
ACCOUNTS: Final = ("acc_hq", "acc_eu")

MAYA = {
    "type": "user",
    "id": "usr_maya",
    "name": "Maya Chen",
    "email": "maya@acmerobotics.com",
    "role": "owner",
}
DANIEL = {
    "type": "user",
    "id": "usr_daniel",
    "name": "Daniel Okafor",
    "email": "daniel@acmerobotics.com",
    "role": "admin",
}
PRIYA = {
    "type": "user",
    "id": "usr_priya",
    "name": "Priya Raman",
    "email": "priya@acmerobotics.com",
    "role": "account_admin",
}
TOM = {
    "type": "user",
    "id": "usr_tom",
    "name": "Tom Becker",
    "email": "tom@acmerobotics.com",
    "role": "member",
}
SYSTEM = {"type": "system", "id": "scheduler"}
CI_KEY = {"type": "api_key", "id": "key_ci_deploy", "name": "ci-deploy"}

CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"


def _person(who: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in who.items() if k in ("type", "id", "name", "email")}


def events(now: datetime | None = None) -> list[dict[str, Any]]:
    """About thirty events over the last eight days, oldest first."""
    now = now or datetime.now(UTC)

    def ago(**delta: float) -> str:
        return (now - timedelta(**delta)).isoformat().replace("+00:00", "Z")

    lena = {
        "type": "user",
        "id": "usr_lena",
        "name": "Lena Fischer",
        "email": "lena@acmerobotics.com",
    }
    out: list[dict[str, Any]] = [
        {
            "action": "workspace.created",
            "occurred_at": ago(days=8, hours=2),
            "actor": MAYA,
            "resource": {"type": "workspace", "id": "ws_eu_ops_2f81c0", "name": "EU Operations"},
            "account_id": "acc_eu",
            "ip": "198.51.100.23",
            "user_agent": CHROME,
        },
        {
            "action": "billing.top_up_settings_updated",
            "occurred_at": ago(days=7, hours=5),
            "actor": MAYA,
            "resource": {"type": "billing", "id": "bill_acme_main"},
            "account_id": "acc_hq",
            "context": {
                "previous": {"threshold_usd": 50, "amount_usd": 100},
                "new": {"threshold_usd": 100, "amount_usd": 250},
            },
            "ip": "198.51.100.23",
            "user_agent": CHROME,
        },
        {
            "action": "whitelabel.updated",
            "occurred_at": ago(days=6, hours=3),
            "actor": DANIEL,
            "resource": {"type": "whitelabel", "id": "wl_acme"},
            "account_id": "acc_hq",
            "context": {"changes": {"primary_color": {"old": "#1f6feb", "new": "#4338ca"}}},
            "ip": "203.0.113.10",
            "user_agent": FIREFOX,
        },
        {
            "action": "mcp_integration.deleted",
            "occurred_at": ago(days=5, hours=1),
            "actor": DANIEL,
            "resource": {"type": "mcp_integration", "id": "mcp_7d21e9aa40", "name": "Linear"},
            "account_id": "acc_hq",
            "ip": "203.0.113.10",
            "user_agent": FIREFOX,
        },
        {
            "action": "knowledge_source.created",
            "occurred_at": ago(days=4, hours=6),
            "actor": PRIYA,
            "resource": {"type": "knowledge_source", "id": "ks_0c9f3b71d2", "name": "Support FAQ"},
            "account_id": "acc_eu",
            "context": {"source": "url", "pages": 142},
            "ip": "192.0.2.44",
            "user_agent": CHROME,
        },
        {
            "action": "custom_domain.added",
            "occurred_at": ago(days=3, hours=8),
            "actor": MAYA,
            "resource": {"type": "custom_domain", "id": "help.acmerobotics.com"},
            "account_id": "acc_hq",
            "ip": "198.51.100.23",
            "user_agent": CHROME,
        },
        {
            "action": "member.offboarded",
            "occurred_at": ago(days=2, hours=20),
            "actor": SYSTEM,
            "target": {
                "type": "user",
                "id": "usr_sam",
                "name": "Sam Ortiz",
                "email": "sam@acmerobotics.com",
            },
            "resource": {"type": "workspace", "id": "ws_hq_main_91ab"},
            "account_id": "acc_hq",
            "description": "Sam Ortiz was offboarded after 30 days of inactivity",
            "context": {"reason": "inactivity", "inactive_days": 30},
        },
        {
            "action": "app.deleted",
            "occurred_at": ago(days=2, hours=2),
            "actor": PRIYA,
            "resource": {"type": "app", "id": "app_5be0c4f2a1", "name": "Returns bot (old)"},
            "account_id": "acc_eu",
            "ip": "192.0.2.44",
            "user_agent": CHROME,
        },
        {
            "action": "channel.configured",
            "occurred_at": ago(days=1, hours=9),
            "actor": DANIEL,
            "resource": {"type": "channel", "id": "ch_whatsapp_44a1", "name": "WhatsApp"},
            "account_id": "acc_hq",
            "context": {"channel": "whatsapp", "previous_status": "draft", "new_status": "live"},
            "ip": "203.0.113.10",
            "user_agent": FIREFOX,
        },
        {
            "action": "auth.logout",
            "occurred_at": ago(days=1, hours=3),
            "actor": PRIYA,
            "ip": "192.0.2.44",
            "user_agent": CHROME,
        },
        {
            "action": "api_key.deactivated",
            "occurred_at": ago(hours=22),
            "actor": MAYA,
            "resource": {"type": "api_key", "id": "key_legacy_0a9e7f", "name": "legacy-import"},
            "account_id": "acc_hq",
            "context": {"reason": "rotated"},
            "ip": "198.51.100.23",
            "user_agent": CHROME,
        },
        {
            "id": HOSTILE_ID,
            "action": "app.settings_updated",
            "occurred_at": ago(hours=19),
            "actor": {
                "type": "user",
                "id": "usr_mallory",
                "name": "<b>Mallory</b>",
                "email": "mallory@example.com",
            },
            "resource": {"type": "app", "id": "app_9a8b7c6d5e", "name": '"><svg onload=alert(3)>'},
            "account_id": "acc_hq",
            "description": HOSTILE,
            "context": {"note": "</pre><script>alert(4)</script>"},
            "ip": "203.0.113.66",
            "user_agent": "<script>alert(5)</script>",
        },
        {
            "action": "job.completed",
            "occurred_at": ago(hours=15),
            "actor": CI_KEY,
            "resource": {"type": "job", "id": "job_nightly_sync_8841"},
            "account_id": "acc_eu",
            "context": {"duration_ms": 48210, "records": 18402},
        },
        {
            "action": "oauth.connected",
            "occurred_at": ago(hours=8),
            "actor": DANIEL,
            "resource": {"type": "oauth_connection", "id": "oauth_slack_2c7e", "name": "Slack"},
            "account_id": "acc_hq",
            "context": {"provider": "slack", "scopes": ["chat:write", "channels:read"]},
            "ip": "203.0.113.10",
            "user_agent": FIREFOX,
        },
        {
            "action": "subscription.changed",
            "occurred_at": ago(hours=5),
            "actor": MAYA,
            "resource": {"type": "subscription", "id": "sub_1PqR7s2eZvKYlo2C"},
            "account_id": "acc_hq",
            "context": {"previous_plan": "Studio", "new_plan": "Studio Pro", "seats": 25},
            "ip": "198.51.100.23",
            "user_agent": CHROME,
        },
        {
            "action": "app.published",
            "occurred_at": ago(hours=3),
            "actor": PRIYA,
            "resource": {"type": "app", "id": "app_4c1f9e22b7", "name": "Order tracker"},
            "account_id": "acc_eu",
            "context": {"previous_version": "2.3.2", "new_version": "2.4.0"},
            "ip": "192.0.2.44",
            "user_agent": CHROME,
        },
        {
            "action": "member.invited",
            "occurred_at": ago(hours=1, minutes=4),
            "actor": DANIEL,
            "target": lena,
            "resource": {"type": "workspace", "id": "ws_eu_ops_2f81c0", "name": "EU Operations"},
            "account_id": "acc_eu",
            "context": {"role": "member"},
            "ip": "203.0.113.10",
            "user_agent": FIREFOX,
        },
        {
            "action": "auth.login",
            "occurred_at": ago(minutes=38),
            "outcome": "failure",
            "actor": _person(TOM),
            "description": "Failed sign-in for tom@acmerobotics.com (wrong password)",
            "context": {"method": "password", "attempt": 3},
            "ip": "185.220.101.7",
            "user_agent": FIREFOX,
        },
        {
            "action": "api_key.create",
            "occurred_at": ago(minutes=14),
            "actor": MAYA,
            "resource": {"type": "api_key", "id": "key_7f3a91c2e4b8", "name": "ci-deploy"},
            "account_id": "acc_hq",
            "context": {"scopes": ["events:write"], "expires_in_days": 90},
            "ip": "198.51.100.23",
            "user_agent": CHROME,
        },
        {
            "id": ROLE_CHANGE_ID,
            "action": "member.role_changed",
            "occurred_at": ago(minutes=3),
            "actor": DANIEL,
            "target": _person(TOM),
            "resource": {"type": "workspace", "id": "ws_hq_main_91ab", "name": "HQ"},
            "account_id": "acc_hq",
            "context": {"previous_role": "member", "new_role": "admin"},
            "ip": "203.0.113.10",
            "user_agent": FIREFOX,
            "request_id": "req_01HXYZ8K2M",
        },
    ]
    return out


def filler(count: int, now: datetime | None = None) -> list[dict[str, Any]]:
    """``count`` plain sign-ins, one a minute, older than everything in ``events``."""
    now = now or datetime.now(UTC)
    start = now - timedelta(days=9)
    return [
        {
            "id": f"evt_login_{i:04d}",
            "action": "user.login",
            "occurred_at": (start - timedelta(minutes=i)).isoformat().replace("+00:00", "Z"),
            "actor": _person(DANIEL if i % 2 else MAYA),
            "account_id": ACCOUNTS[i % 2],
            "ip": f"10.20.{i // 250}.{i % 250 + 1}",
        }
        for i in range(count)
    ]
