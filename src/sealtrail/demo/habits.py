"""What the demo organisation does, and how often: the tables the generator draws from.

``ACTIONS`` says, for each catalog action people or robots cause in routine work,
who may cause it and how often it comes up in a working session or among an
admin's changes. Actions not listed happen only in the story or once, for
completeness, done by an admin.
"""

from __future__ import annotations

from typing import Any, Final

from sealtrail.demo.cast import ADMIN, DEVELOPER, DOMAIN, MEMBER, OWNER, ROLES, VIEWER

# Which people may do something, by their role in the organisation.
GROUPS: Final[dict[str, frozenset[str]]] = {
    "owner": frozenset({OWNER}),
    "admin": frozenset({OWNER, ADMIN}),
    "dev": frozenset({OWNER, ADMIN, DEVELOPER}),
    "member": frozenset({OWNER, ADMIN, DEVELOPER, MEMBER}),
    "anyone": frozenset(ROLES),
}

# action: (who does it, weight among a working session's actions, weight among admin changes)
ACTIONS: Final[dict[str, tuple[str, float, float]]] = {
    "app.updated": ("member", 7, 0),
    "app.settings_updated": ("member", 3, 0.5),
    "app.created": ("member", 0.25, 0),
    "app.duplicated": ("member", 0.15, 0),
    "app.moved": ("member", 0.3, 0.3),
    "app.published": ("dev", 1.2, 0),
    "app.unpublished": ("dev", 0.1, 0.3),
    "app.rolled_back": ("dev", 0, 0.3),
    "app.version_restored": ("dev", 0.2, 0.3),
    "app.deleted": ("admin", 0, 0.4),
    "knowledge.update": ("member", 6, 0),
    "knowledge.create": ("member", 1.5, 0),
    "knowledge.delete": ("member", 0.5, 0),
    "knowledge_source.created": ("member", 0.4, 0),
    "knowledge_source.updated": ("member", 2, 0),
    "knowledge_source.linked": ("member", 0.6, 0),
    "knowledge_source.unlinked": ("member", 0.25, 0),
    "knowledge_source.deleted": ("member", 0.15, 0),
    "agent.updated": ("member", 3, 0),
    "agent.created": ("member", 0.2, 0),
    "agent.deleted": ("dev", 0.1, 0.2),
    "agent_link.created": ("member", 0.3, 0),
    "agent_link.deleted": ("member", 0.15, 0),
    "voice_clone.created": ("member", 0.1, 0.3),
    "voice_clone.deleted": ("admin", 0, 0.2),
    "db.update": ("member", 5, 0),
    "db.create": ("member", 3, 0),
    "db.delete": ("member", 1, 0),
    "process.updated": ("member", 3, 0),
    "process.created": ("member", 0.25, 0),
    "process.deleted": ("admin", 0, 0.3),
    "process.member_added": ("member", 1, 0),
    "process.member_removed": ("member", 0.4, 0),
    "job.created": ("member", 1, 0),
    "job.cancelled": ("member", 0.3, 0),
    "message.send": ("member", 1, 0),
    "message.deleted": ("member", 0.2, 0),
    "user.updated": ("self", 0.1, 0),
    "auth.password_changed": ("self", 0.08, 0),
    "oauth.connected": ("member", 0.3, 0.5),
    "oauth.disconnected": ("member", 0.15, 0.3),
    "channel.configured": ("dev", 0.6, 2.5),
    "channel.create": ("admin", 0, 0.8),
    "channel.connect": ("admin", 0, 0.8),
    "channel.disconnected": ("admin", 0, 0.4),
    "channel.deleted": ("admin", 0, 0.2),
    "integration.connected": ("admin", 0, 1.2),
    "integration.updated": ("admin", 0, 1.5),
    "integration.disconnected": ("admin", 0, 0.7),
    "mcp_integration.created": ("dev", 0, 0.8),
    "mcp_integration.updated": ("dev", 0, 1.2),
    "mcp_integration.deleted": ("dev", 0, 0.4),
    "phone_number.purchased": ("admin", 0, 0.5),
    "phone_number.released": ("admin", 0, 0.25),
    "custom_domain.added": ("admin", 0, 0.3),
    "custom_domain.verified": ("admin", 0, 0.3),
    "custom_domain.removed": ("admin", 0, 0.1),
    "sender_domain.added": ("admin", 0, 0.3),
    "sender_domain.verified": ("admin", 0, 0.3),
    "sender_domain.removed": ("admin", 0, 0.1),
    "webhook.created": ("dev", 0, 0.7),
    "webhook.updated": ("dev", 0, 1),
    "webhook.deleted": ("dev", 0, 0.3),
    "api_key.created": ("admin", 0, 0.6),
    "api_key.updated": ("admin", 0, 0.4),
    "api_key.rotated": ("admin", 0, 0.6),
    "api_key.deactivated": ("admin", 0, 0.4),
    "api_key.deleted": ("admin", 0, 0.3),
    "api_key.create": ("dev", 0.02, 0),  # rare: each first key is an alert (api-key-by-new-actor)
    "api_key.delete": ("dev", 0.01, 0),
    "workspace.created": ("admin", 0, 0.3),
    "workspace.updated": ("admin", 0, 1),
    "workspace.deleted": ("admin", 0, 0.1),
    "workspace.member_added": ("admin", 0, 2),
    "workspace.member_removed": ("admin", 0, 0.7),
    "workspace.member_permissions_updated": ("admin", 0, 1),
    "workspace.permissions_updated": ("admin", 0, 0.5),
    "member.role_updated": ("admin", 0, 0.8),
    "role.created": ("admin", 0, 0.2),
    "role.updated": ("admin", 0, 0.5),
    "role.deleted": ("admin", 0, 0.1),
    "settings.updated": ("admin", 0, 3),
    "organisation.settings_updated": ("admin", 0, 1),
    "whitelabel.updated": ("admin", 0, 0.8),
    "consumer_package.created": ("admin", 0, 0.3),
    "consumer_package.updated": ("admin", 0, 0.6),
    "consumer_package.deleted": ("admin", 0, 0.15),
    "billing.top_up_purchased": ("owner", 0, 0.5),
    "billing.top_up_settings_updated": ("owner", 0, 0.4),
    "billing.notification_settings_updated": ("owner", 0, 0.3),
    "billing.details_updated": ("owner", 0, 0.3),
    "billing.payment_method_added": ("owner", 0, 0.1),
    "billing.payment_method_removed": ("owner", 0, 0.05),
    "stripe_connect.initiated": ("owner", 0, 0.05),
    "stripe_connect.disconnected": ("owner", 0, 0.03),
    "license.activated": ("owner", 0, 0.05),
    "license.renewed": ("owner", 0, 0.05),
    "license.deactivated": ("owner", 0, 0.03),
    "license.expired": ("system", 0, 0),
    "account.updated": ("admin", 0, 0.3),
    "account.created": ("owner", 0, 0.04),
    "account.deleted": ("owner", 0, 0.02),
    "auth.session_revoked": ("admin", 0, 0.3),
    "auth.mfa_reset": ("admin", 0, 0.2),
    "audit_log.viewed": ("admin", 0, 0),
    "audit_log.exported": ("admin", 0, 0),
    "job.started": ("system", 0, 0),
    "job.completed": ("system", 0, 0),
    "job.failed": ("system", 0, 0),
}

WORK: Final = tuple((a, w) for a, (_, w, _) in ACTIONS.items() if w > 0)
ADMIN_CHANGES: Final = tuple((a, w) for a, (_, _, w) in ACTIONS.items() if w > 0)

ACCOUNT_PREFIXES: Final = frozenset(
    [
        "app",
        "oauth",
        "integration",
        "channel",
        "mcp_integration",
        "phone_number",
        "webhook",
        "knowledge_source",
        "knowledge",
        "agent",
        "agent_link",
        "voice_clone",
        "workspace",
        "api_key",
        "process",
        "job",
        "message",
        "db",
        "invitation",
    ]
)
ACCOUNT_ACTIONS: Final = frozenset(
    {"member.added", "member.removed", "member.role_updated", "settings.updated"}
)
# How an action moves its resource's life: these verbs (or whole actions) make a new
# one, these end one; KEEPS are exceptions to the verbs; every other action uses one.
BORN: Final = frozenset(
    {
        "created",
        "create",
        "added",
        "purchased",
        "connected",
        "initiated",
        "activated",
        "billing.payment_method_added",
    }
)
DIES: Final = frozenset(
    {
        "deleted",
        "delete",
        "removed",
        "released",
        "disconnected",
        "deactivated",
        "billing.payment_method_removed",
    }
)
KEEPS: Final = frozenset({"channel.disconnected", "knowledge_source.linked"})

SETTINGS: Final[dict[str, dict[str, tuple[Any, ...]]]] = {
    "organisation": {
        "session_timeout_minutes": (30, 60, 120, 480),
        "default_member_role": (VIEWER, MEMBER),
        "allowed_email_domains": ([DOMAIN], [DOMAIN, "northwind-labs.example"]),
        "data_retention_days": (365, 730, 1095),
        "ip_allowlist_enabled": (False, True),
        "ai_training_opt_out": (True, False),
    },
    "security": {
        "password_min_length": (10, 12, 14),
        "session_idle_timeout_minutes": (15, 30, 60),
        "require_mfa_for_admins": (False, True),
    },
    "notifications": {
        "weekly_digest": (True, False),
        "incident_email": (f"ops@{DOMAIN}", f"oncall@{DOMAIN}"),
        "slack_alerts_channel": ("#alerts", "#ops-alerts"),
    },
    "data_retention": {"conversation_days": (30, 90, 180), "attachment_days": (30, 90)},
    "rpa_credentials": {
        "vault_path": ("secret/rpa/prod", "secret/rpa/v2/prod"),
        "rotation_days": (30, 60, 90),
        "username": ("svc-rpa", "svc-rpa-2"),
    },
    "localization": {
        "default_language": ("en", "en-GB", "de", "fr"),
        "timezone": ("Europe/London", "Europe/Berlin", "UTC"),
    },
    "whitelabel": {
        "brand_color": ("#1F6FEB", "#0B5FFF", "#6E40C9"),
        "logo": ("logo-2023.svg", "logo-2024.svg"),
        "custom_css_enabled": (False, True),
        "hide_powered_by": (False, True),
    },
    "app": {
        "temperature": (0.2, 0.3, 0.5, 0.7),
        "model_tier": ("standard", "advanced"),
        "max_response_tokens": (512, 1024, 2048),
        "public_access": (False, True),
        "welcome_message": (
            "Hi! How can I help?",
            "Hello 👋 How can we help today?",
            "Welcome back — ask me anything.",
        ),
    },
    "top_up": {
        "enabled": (False, True),
        "threshold_credits": (500, 1000, 2500),
        "amount_credits": (5000, 10000, 25000),
    },
    "billing_notifications": {
        "usage_alert_percent": (75, 80, 90),
        "invoice_email": (f"finance@{DOMAIN}", f"ap@{DOMAIN}"),
        "low_balance_alert": (True, False),
    },
    "channel": {
        "auto_reply": (False, True),
        "business_hours_only": (False, True),
        "handoff_to_human_after_minutes": (5, 10, 15),
    },
}
SETTINGS_RESOURCES: Final = (
    "security",
    "notifications",
    "data_retention",
    "rpa_credentials",
    "localization",
)
SETTING_ACTIONS: Final = {
    "organisation.settings_updated": "organisation",
    "whitelabel.updated": "whitelabel",
    "billing.top_up_settings_updated": "top_up",
    "billing.notification_settings_updated": "billing_notifications",
}

JOBS: Final = (  # type, name, weight, typical seconds
    ("crm_sync", "CRM sync", 5, 240),
    ("knowledge_reindex", "Knowledge re-index", 3, 900),
    ("embeddings_refresh", "Embeddings refresh", 2, 1500),
    ("usage_report", "Usage report", 1, 120),
    ("transcription_batch", "Call transcription batch", 2, 600),
    ("backup_export", "Backup export", 1, 1800),
    ("invoice_run", "Invoice run", 0.3, 300),
)
JOB_ERRORS: Final = (
    "upstream timeout after 30 s",
    "HTTP 429 from CRM API (rate limited)",
    "worker lost heartbeat",
    "credentials rejected by the remote system",
    "out of memory while chunking a 212 MB PDF",
)
API_SCOPES: Final = (
    "events:write",
    "messages:send",
    "knowledge:read",
    "knowledge:write",
    "jobs:run",
    "analytics:read",
)
ACCOUNT_ROLES: Final = ("viewer", "editor", "account_admin")
PERMISSIONS: Final = ("apps:read", "apps:write", "apps:publish", "knowledge:write", "billing:read")
DB_TABLES: Final = (("customer", "cus"), ("order", "ord"), ("ticket", "tkt"), ("contact", "ct"))
AUDIT_PHRASES: Final = (
    "action:member.*",
    "action:auth.login outcome:failure",
    "action:member.role_changed",
    "action:api_key.*",
    "category:billing",
    "kind:delete",
    "ip:192.0.2.0/24",
    "resource:app",
    "",
)


def account_scoped(action: str) -> bool:
    return action in ACCOUNT_ACTIONS or action.partition(".")[0] in ACCOUNT_PREFIXES
