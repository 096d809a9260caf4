"""How logtrace reaches Kibana (`LOGTRACE_KIBANA_*`): URL, space and credentials for the import API.

Secrets are `SecretStr` (never in a repr or an error); credentials inside the URL are refused, as for
Elasticsearch, because URLs get printed.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Kibana space ids: lower-case letters, digits, `_` and `-`.
_SPACE_ID = re.compile(r"[a-z0-9_-]+")


class KibanaSettings(BaseSettings):
    """Connection settings of the saved objects import."""

    model_config = SettingsConfigDict(env_prefix="LOGTRACE_KIBANA_", extra="forbid")

    # Base URL of Kibana, http(s)://host:port[/base-path], without credentials.
    url: str = "http://127.0.0.1:5601"
    # Kibana space to import into; None = the default space.
    space: str | None = None
    # API key (the base64 `id:key` form); takes precedence over username/password.
    api_key: SecretStr | None = None
    username: SecretStr | None = None
    password: SecretStr | None = None
    # PEM file with the CA of Kibana's certificate (https only); None = system CAs.
    ca_certs: Path | None = None
    verify_certs: bool = True
    # Seconds the import request may take; must be > 0.
    request_timeout_s: float = Field(default=60.0, gt=0)

    @field_validator("url")
    @classmethod
    def _plain_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not contain credentials; use LOGTRACE_KIBANA_API_KEY or USERNAME/PASSWORD")
        return value.rstrip("/")

    @field_validator("space")
    @classmethod
    def _space_id(cls, value: str | None) -> str | None:
        if value is not None and _SPACE_ID.fullmatch(value) is None:
            raise ValueError("a space id has only lower-case letters, digits, '_' and '-'")
        return value

    @model_validator(mode="after")
    def _credentials_pair(self) -> "KibanaSettings":
        if (self.username is None) != (self.password is None):
            raise ValueError("LOGTRACE_KIBANA_USERNAME and LOGTRACE_KIBANA_PASSWORD must be set together")
        if self.ca_certs is not None and not self.ca_certs.is_file():
            raise ValueError(f"LOGTRACE_KIBANA_CA_CERTS: no such file {self.ca_certs}")
        return self
