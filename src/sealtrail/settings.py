"""One validated ``Settings`` object, built at the edges and passed inward.

Sources, strongest first: explicit values (CLI flags), the environment
(``SEALTRAIL_*``), a TOML file (``--config``, ``SEALTRAIL_CONFIG`` or
``./sealtrail.toml`` when present), then the defaults below. A bad value fails
loudly, naming the setting and where it came from.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any, Final

from sealtrail.errors import ConfigurationError
from sealtrail.limits import DEFAULT_MASK_KEYS, MAX_RATE, MIN_READ_RATE, MIN_WRITE_RATE

DEFAULT_DATABASE_URL: Final = "sqlite:///./sealtrail.db"
DEFAULT_CONFIG_FILE: Final = "sealtrail.toml"
FOLLOWER_PLACES: Final = ("process", "thread", "off")
"""Where ``serve`` runs the followers (stream delivery, detections): a ``sealtrail follow``
child it supervises, threads of its API processes, or nowhere (another host runs them)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Every knob Sealtrail has. Each is documented in docs/configuration.md."""

    database_url: str = DEFAULT_DATABASE_URL
    signing_key_file: str = "./sealtrail-signing.key"
    signer_state_dir: str | None = None
    witness_policy_file: str | None = None
    witness_timeout: int = 10
    admin_token: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    max_body_bytes: int = 5 * 1024 * 1024
    public_url: str | None = None
    viewer_session_ttl: int = 900
    viewer_link_ttl: int = 60
    sqlite_cache_mib: int = 256
    runtime_database_url: str | None = None
    read_database_url: str | None = None
    connect_timeout: int = 5
    max_clock_skew: int = 300
    mask_context_keys: str = ",".join(DEFAULT_MASK_KEYS)
    mask_card_numbers: bool = True
    followers: str = "process"
    followers_nice: int = 10
    stream_delivery: bool = True
    stream_failing_after: int = 600
    stream_lease_seconds: int = 30
    stream_ca_file: str | None = None
    stream_secrets_key: str | None = None
    stream_secrets_key_file: str | None = None
    stream_allow_private_destinations: bool = False
    stream_allowed_networks: str = ""
    rate_limits: bool = True
    rate_limit_key_writes: int = 2000
    rate_limit_tenant_writes: int = 5000
    rate_limit_key_reads: int = 100
    rate_limit_tenant_reads: int = 200
    detections: bool = True
    prune_interval: int = 3600

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def stream_secrets_key_path(self) -> Path:
        """Where the stream secrets key is kept when ``stream_secrets_key`` is unset:
        ``stream_secrets_key_file``, or beside the signing key."""
        if self.stream_secrets_key_file:
            return Path(self.stream_secrets_key_file)
        return Path(self.signing_key_file).with_name("sealtrail-stream-secrets.key")

    def stream_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """``stream_allowed_networks`` parsed: the CIDRs stream destinations may be in
        even though they are not public addresses."""
        networks = []
        for part in self.stream_allowed_networks.split(","):
            if not part.strip():
                continue
            try:
                networks.append(ip_network(part.strip(), strict=False))
            except ValueError:
                raise ConfigurationError(
                    f"stream_allowed_networks: {part.strip()!r} is not a CIDR"
                    " (10.0.0.0/8, fd00::/8)"
                ) from None
        return tuple(networks)

    @classmethod
    def env_name(cls, name: str) -> str:
        return f"SEALTRAIL_{name.upper()}"

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        config_file: str | None = None,
    ) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, tuple[Any, str]] = {}
        path = config_file or env.get("SEALTRAIL_CONFIG")
        if path is None and Path(DEFAULT_CONFIG_FILE).is_file():
            path = DEFAULT_CONFIG_FILE
        known = {f.name: f for f in fields(cls)}
        if path is not None:
            try:
                with open(path, "rb") as handle:
                    data = tomllib.load(handle)
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigurationError(f"cannot read config file {path}: {exc}") from exc
            table = data.get("sealtrail", data)
            for key, value in table.items():
                if key not in known:
                    raise ConfigurationError(f"{path}: unknown setting {key!r}")
                values[key] = (value, f"config file {path}")
        for name in known:
            raw = env.get(cls.env_name(name))
            if raw is not None and raw != "":
                values[name] = (raw, f"environment variable {cls.env_name(name)}")
        for name, value in (overrides or {}).items():
            if name not in known:
                raise ConfigurationError(f"unknown setting {name!r}")
            if value is not None:
                values[name] = (value, "command line")
        converted: dict[str, Any] = {}
        for name, (value, source) in values.items():
            converted[name] = _convert(name, known[name].type, value, source)
        settings = cls(**converted)
        settings._check()
        return settings

    def _check(self) -> None:
        if not (0 < self.port < 65536):
            raise ConfigurationError(f"port must be 1..65535, not {self.port}")
        if self.workers < 1:
            raise ConfigurationError(f"workers must be at least 1, not {self.workers}")
        if self.max_body_bytes < 1024:
            raise ConfigurationError("max_body_bytes must be at least 1024")
        if self.witness_timeout < 1:
            raise ConfigurationError("witness_timeout must be at least 1 second")
        if self.viewer_session_ttl < 10:
            raise ConfigurationError("viewer_session_ttl must be at least 10 seconds")
        if self.viewer_link_ttl < 5:
            raise ConfigurationError("viewer_link_ttl must be at least 5 seconds")
        if self.connect_timeout < 1:
            raise ConfigurationError("connect_timeout must be at least 1 second")
        if self.max_clock_skew < 0:
            raise ConfigurationError("max_clock_skew must be 0 seconds or more")
        if self.followers not in FOLLOWER_PLACES:
            raise ConfigurationError(
                f"followers must be one of {', '.join(FOLLOWER_PLACES)}, not {self.followers!r}"
            )
        if not 0 <= self.followers_nice <= 19:
            raise ConfigurationError(f"followers_nice must be 0..19, not {self.followers_nice}")
        if self.stream_failing_after < 1:
            raise ConfigurationError("stream_failing_after must be at least 1 second")
        for name, lowest in (
            ("rate_limit_key_writes", MIN_WRITE_RATE),
            ("rate_limit_tenant_writes", MIN_WRITE_RATE),
            ("rate_limit_key_reads", MIN_READ_RATE),
            ("rate_limit_tenant_reads", MIN_READ_RATE),
        ):
            value = getattr(self, name)
            if not lowest <= value <= MAX_RATE:
                raise ConfigurationError(f"{name} must be {lowest}..{MAX_RATE} per second")
        if self.stream_lease_seconds < 2:
            raise ConfigurationError("stream_lease_seconds must be at least 2 seconds")
        self.stream_networks()
        if self.stream_secrets_key:
            from sealtrail.streams.sealing import parse_keys  # the streams package is heavy

            parse_keys(self.stream_secrets_key, "stream_secrets_key")
        if self.prune_interval < 0:
            raise ConfigurationError("prune_interval must be 0 (never) or more seconds")


_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def _convert(name: str, declared: Any, value: Any, source: str) -> Any:
    if declared in (bool, "bool"):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise ConfigurationError(
            f"setting {name} from {source} must be true or false, not {value!r}"
        )
    wants_int = declared in (int, "int")
    if wants_int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigurationError(
                f"setting {name} from {source} must be an integer, not {value!r}"
            ) from None
    if not isinstance(value, str):
        raise ConfigurationError(f"setting {name} from {source} must be a string")
    return value
