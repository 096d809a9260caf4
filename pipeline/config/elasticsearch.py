"""How logtrace connects to Elasticsearch (`LOGTRACE_ES_*`), and the one factory for the async client.

Secrets are `SecretStr` so they never appear in a repr, a log line or a validation error; credentials
inside the URL are rejected because a URL gets logged and printed far too easily.
"""

from pathlib import Path
from urllib.parse import urlsplit

from elasticsearch import AsyncElasticsearch
from elasticsearch.serializer import OrjsonSerializer
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ElasticsearchSettings(BaseSettings):
    """Connection settings; `client()` builds the AsyncElasticsearch every component shares."""

    # Inputs are hidden from validation errors: a rejected URL may carry a password.
    model_config = SettingsConfigDict(env_prefix="LOGTRACE_ES_", extra="forbid", hide_input_in_errors=True)

    # Base URL of the cluster, http(s)://host:port, without credentials.
    url: str = "http://127.0.0.1:9200"
    # API key (the base64 `id:key` form Kibana shows); takes precedence over username/password.
    api_key: SecretStr | None = None
    # Basic-auth user and password; both or neither.
    username: SecretStr | None = None
    password: SecretStr | None = None
    # PEM file with the CA that signed the cluster's certificate (https only); None = system CAs.
    ca_certs: Path | None = None
    # Verify the server certificate (https only). Turning it off is for throwaway test clusters.
    verify_certs: bool = True
    # Seconds one HTTP request may take (a large bulk request included); must be > 0.
    request_timeout_s: float = Field(default=30.0, gt=0)

    @field_validator("url")
    @classmethod
    def _plain_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        if parts.username is not None or parts.password is not None:
            # Never echo the value: it contains the secret.
            raise ValueError("must not contain credentials; use LOGTRACE_ES_API_KEY or USERNAME/PASSWORD")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _credentials_pair(self) -> "ElasticsearchSettings":
        if (self.username is None) != (self.password is None):
            raise ValueError("LOGTRACE_ES_USERNAME and LOGTRACE_ES_PASSWORD must be set together")
        if self.ca_certs is not None and not self.ca_certs.is_file():
            raise ValueError(f"LOGTRACE_ES_CA_CERTS: no such file {self.ca_certs}")
        return self

    def client(self) -> AsyncElasticsearch:
        """A new AsyncElasticsearch for these settings (the caller closes it).

        Client-side retries are off: the sink owns retrying, item by item, with its own backoff.
        Responses are parsed with orjson (a bulk response of thousands of items is parsed per request).
        """
        options: dict[str, object] = {
            "serializer": OrjsonSerializer(),
            "request_timeout": self.request_timeout_s,
            "max_retries": 0,
            "retry_on_timeout": False,
        }
        if self.api_key is not None:
            options["api_key"] = self.api_key.get_secret_value()
        elif self.username is not None and self.password is not None:
            options["basic_auth"] = (self.username.get_secret_value(), self.password.get_secret_value())
        if self.url.startswith("https://"):
            options["verify_certs"] = self.verify_certs
            if self.ca_certs is not None:
                options["ca_certs"] = str(self.ca_certs)
        return AsyncElasticsearch(self.url, **options)
