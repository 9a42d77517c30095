"""Viewer-session tokens: what a role may see, signatures, expiry, the key."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path

import pytest

from sealtrail.errors import ConfigurationError
from sealtrail.sessions import (
    SessionExpired,
    SessionInvalid,
    SessionRequest,
    SessionSigner,
    ViewerUser,
)
from sealtrail.settings import Settings

NOW = 1_800_000_000
USER = ViewerUser("u1", "ann@x.com", "Ann")


def _mint(role: str = "owner", accounts: frozenset[str] | None = None) -> str:
    request = SessionRequest(USER, role, accounts)  # type: ignore[arg-type]
    token, _ = SessionSigner(b"s" * 32).mint("acme", request, 600, now=NOW)
    return token


def test_roles_map_to_principals_in_one_place() -> None:
    signer = SessionSigner(b"s" * 32)
    owner = signer.open(_mint("owner"), now=NOW).principal()
    assert (owner.kind, owner.tenant_id, owner.accounts, owner.role) == (
        "viewer",
        "acme",
        None,
        "owner",
    )
    assert owner.scopes == frozenset({"events:read"})
    assert (owner.actor.type, owner.actor.id, owner.actor.email, owner.actor.role) == (
        "user",
        "u1",
        "ann@x.com",
        "owner",
    )
    scoped = signer.open(_mint("account_admin", frozenset({"a1", "a2"})), now=NOW).principal()
    assert scoped.accounts == frozenset({"a1", "a2"})
    member = signer.open(_mint("member"), now=NOW).principal()
    assert member.scopes == frozenset()
    assert member.accounts == frozenset()


def test_a_token_lives_exactly_its_ttl() -> None:
    signer = SessionSigner(b"s" * 32)
    token = _mint()
    assert signer.open(token, now=NOW + 599).expires_at == NOW + 600
    with pytest.raises(SessionExpired):
        signer.open(token, now=NOW + 600)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + "x",
        lambda t: t[:-1],
        lambda t: t.replace("v1.", "v2.", 1),
        lambda t: "",
        lambda t: "v1..",
        lambda t: "v1.@@@.@@@",
        lambda t: t.split(".")[0] + "." + t.split(".")[1],
    ],
)
def test_mangled_tokens_are_invalid(mangle: object) -> None:
    with pytest.raises(SessionInvalid):
        SessionSigner(b"s" * 32).open(mangle(_mint()), now=NOW)  # type: ignore[operator]


def test_a_rewritten_payload_needs_the_key() -> None:
    version, payload, mac = _mint("account_admin", frozenset({"a1"})).split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    data["r"], data["a"] = "owner", None
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    with pytest.raises(SessionInvalid):
        SessionSigner(b"s" * 32).open(f"{version}.{forged}.{mac}", now=NOW)
    with pytest.raises(SessionInvalid):
        SessionSigner(b"t" * 32).open(_mint(), now=NOW)


def test_the_key_comes_from_the_environment_or_the_signing_key(tmp_path: Path) -> None:
    settings = Settings(signing_key_file=str(tmp_path / "signing.key"))
    token, _ = SessionSigner.from_settings(settings).mint(
        "acme", SessionRequest(USER, "owner", None), 60
    )
    assert not (tmp_path / "other").exists()
    again = SessionSigner.from_settings(settings)  # another worker, same key file
    assert again.open(token).tenant_id == "acme"
    with pytest.raises(SessionInvalid):
        SessionSigner.from_settings(replace(settings, session_secret="x" * 40)).open(token)
    with pytest.raises(ConfigurationError):
        SessionSigner.from_settings(replace(settings, session_secret="short"))


def test_building_a_signer_reads_no_key_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "signing.key"
    signer = SessionSigner.from_settings(Settings(signing_key_file=str(missing)))
    with pytest.raises(ConfigurationError):
        signer.open(_mint())
