"""How logtrace connects to Kafka (`LOGTRACE_KAFKA_*`): one place that builds faust's and aiokafka's auth.

Secrets are `SecretStr`, so they never appear in a repr, a log line or a validation error. Files (CA,
client certificate and key) are checked at start-up so a typo fails before the worker joins its group.
"""

import ssl
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSettings(BaseSettings):
    """Broker address, security and consumer group of every logtrace Kafka client."""

    model_config = SettingsConfigDict(env_prefix="LOGTRACE_KAFKA_", extra="forbid")

    # Comma-separated host:port list of bootstrap brokers.
    bootstrap_servers: str = Field(default="127.0.0.1:9092", min_length=1)
    # PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL.
    security_protocol: SecurityProtocol = "PLAINTEXT"
    # SASL mechanism for the SASL_* protocols: PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512.
    sasl_mechanism: SaslMechanism = "PLAIN"
    # SASL user name and password (both required with a SASL_* protocol).
    username: SecretStr | None = None
    password: SecretStr | None = None
    # PEM file of the CA that signed the brokers' certificates (SSL/SASL_SSL); None = system CAs.
    ca_file: Path | None = None
    # PEM client certificate and private key for mutual TLS (SSL/SASL_SSL); both or neither.
    cert_file: Path | None = None
    key_file: Path | None = None
    # Consumer group of the workers; also faust's app id, so it prefixes the internal topics
    # (`<group_id>-trace-projections`, `<group_id>-metric-partials`, `<group_id>-traces-changelog`).
    group_id: str = Field(default="logtrace", pattern=r"^[A-Za-z0-9._-]{1,200}$")
    # Client id shown in the broker's logs and quotas.
    client_id: str = Field(default="logtrace", pattern=r"^[A-Za-z0-9._-]{1,200}$")

    @field_validator("bootstrap_servers")
    @classmethod
    def _servers(cls, value: str) -> str:
        servers = [part.strip() for part in value.split(",") if part.strip()]
        if not servers:
            raise ValueError("needs at least one host:port")
        for server in servers:
            host, sep, port = server.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{server!r} is not host:port")
        return ",".join(servers)

    @model_validator(mode="after")
    def _consistent(self) -> "KafkaSettings":
        sasl = self.security_protocol.startswith("SASL_")
        if sasl and (self.username is None or self.password is None):
            raise ValueError(
                f"LOGTRACE_KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs "
                "LOGTRACE_KAFKA_USERNAME and LOGTRACE_KAFKA_PASSWORD"
            )
        if not sasl and (self.username is not None or self.password is not None):
            raise ValueError("LOGTRACE_KAFKA_USERNAME/PASSWORD need a SASL_* security protocol")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("LOGTRACE_KAFKA_CERT_FILE and LOGTRACE_KAFKA_KEY_FILE must be set together")
        uses_tls = self.security_protocol in ("SSL", "SASL_SSL")
        for name in ("ca_file", "cert_file", "key_file"):
            path = getattr(self, name)
            if path is None:
                continue
            if not uses_tls:
                raise ValueError(f"LOGTRACE_KAFKA_{name.upper()} needs security protocol SSL or SASL_SSL")
            if not path.is_file():
                raise ValueError(f"LOGTRACE_KAFKA_{name.upper()}: no such file {path}")
        return self

    @property
    def servers(self) -> list[str]:
        """The bootstrap servers as a list."""
        return self.bootstrap_servers.split(",")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for SSL/SASL_SSL (CA and optional client certificate), None for plaintext."""
        if self.security_protocol not in ("SSL", "SASL_SSL"):
            return None
        context = ssl.create_default_context(
            purpose=ssl.Purpose.SERVER_AUTH, cafile=str(self.ca_file) if self.ca_file else None
        )
        if self.cert_file is not None and self.key_file is not None:
            context.load_cert_chain(certfile=str(self.cert_file), keyfile=str(self.key_file))
        return context

    def faust_credentials(self) -> Any:
        """faust's `broker_credentials` value (None for PLAINTEXT)."""
        import faust

        if self.security_protocol == "PLAINTEXT":
            return None
        if self.security_protocol == "SSL":
            return faust.SSLCredentials(self.ssl_context())
        assert self.username is not None and self.password is not None
        credentials = faust.SASLCredentials(
            username=self.username.get_secret_value(),
            password=self.password.get_secret_value(),
            ssl_context=self.ssl_context(),
            mechanism=self.sasl_mechanism,
        )
        return credentials

    def aiokafka_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer/Consumer/AdminClient (servers, client id and auth)."""
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.servers,
            "client_id": self.client_id,
            "security_protocol": self.security_protocol,
        }
        context = self.ssl_context()
        if context is not None:
            kwargs["ssl_context"] = context
        if self.security_protocol.startswith("SASL_"):
            assert self.username is not None and self.password is not None
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.username.get_secret_value()
            kwargs["sasl_plain_password"] = self.password.get_secret_value()
        return kwargs

    def describe(self) -> dict[str, Any]:
        """What may be logged: addresses and modes, never a secret or a key path's content."""
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
            "sasl_mechanism": self.sasl_mechanism if self.security_protocol.startswith("SASL_") else None,
            "group_id": self.group_id,
            "tls_client_cert": self.cert_file is not None,
        }
