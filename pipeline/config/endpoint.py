"""Settings shared by every HTTP endpoint logtrace talks to (Elasticsearch, Kibana): URL and credentials.

Secrets are `SecretStr` so they never appear in a repr, a log line or a validation error; credentials
inside the URL are rejected because a URL gets logged and printed far too easily.
"""

from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class HttpEndpointSettings(BaseSettings):
    """Base URL, API key or basic auth, CA bundle; subclasses set `env_prefix` and the default URL."""

    # Inputs are hidden from validation errors: a rejected URL may carry a password.
    model_config = SettingsConfigDict(extra="forbid", hide_input_in_errors=True)

    # Base URL, http(s)://host:port[/base-path], without credentials.
    url: str
    # API key (the base64 `id:key` form Kibana shows); takes precedence over username/password.
    api_key: SecretStr | None = None
    # Basic-auth user and password; both or neither.
    username: SecretStr | None = None
    password: SecretStr | None = None
    # PEM file with the CA that signed the server's certificate (https only); None = system CAs.
    ca_certs: Path | None = None
    # Verify the server certificate (https only). Turning it off is for throwaway test servers.
    verify_certs: bool = True

    @classmethod
    def _env(cls, name: str) -> str:
        return f"{cls.model_config.get('env_prefix', '')}{name}".upper()

    @field_validator("url")
    @classmethod
    def _plain_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        if parts.username is not None or parts.password is not None:
            # Never echo the value: it contains the secret.
            raise ValueError(f"must not contain credentials; use {cls._env('api_key')} or USERNAME/PASSWORD")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _credentials_pair(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError(f"{self._env('username')} and {self._env('password')} must be set together")
        if self.ca_certs is not None and not self.ca_certs.is_file():
            raise ValueError(f"{self._env('ca_certs')}: no such file {self.ca_certs}")
        return self
