"""How logtrace reaches Kibana (`LOGTRACE_KIBANA_*`): URL, space and credentials for the import API."""

import re

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from pipeline.config.endpoint import HttpEndpointSettings

# Kibana space ids: lower-case letters, digits, `_` and `-`.
_SPACE_ID = re.compile(r"[a-z0-9_-]+")


class KibanaSettings(HttpEndpointSettings):
    """Connection settings of the saved objects import."""

    model_config = SettingsConfigDict(env_prefix="LOGTRACE_KIBANA_")

    # Base URL of Kibana, http(s)://host:port[/base-path], without credentials.
    url: str = "http://127.0.0.1:5601"
    # Kibana space to import into; None = the default space.
    space: str | None = None
    # Seconds the import request may take; must be > 0.
    request_timeout_s: float = Field(default=60.0, gt=0)

    @field_validator("space")
    @classmethod
    def _space_id(cls, value: str | None) -> str | None:
        if value is not None and _SPACE_ID.fullmatch(value) is None:
            raise ValueError("a space id has only lower-case letters, digits, '_' and '-'")
        return value
