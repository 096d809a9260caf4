"""Retention and rollover of logtrace's data streams (`LOGTRACE_LIFECYCLE_*`), applied by `logtrace setup`.

The committed ILM policies and lifecycle files carry the defaults below; setup writes these values into
them, so changing a variable and re-running setup updates the policies (and says so).
"""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_SIZE = r"^[1-9][0-9]*(b|kb|mb|gb|tb)$"
_AGE = r"^[1-9][0-9]*(h|d)$"


class LifecycleSettings(BaseSettings):
    """Days each kind of data is kept, and when the hot backing index rolls over."""

    model_config = SettingsConfigDict(env_prefix="LOGTRACE_LIFECYCLE_", extra="forbid")

    # Days raw and OTLP logs are kept before their backing index is deleted. >= 1.
    logs_retention_days: int = Field(default=30, ge=1)
    # Days spans and trace summaries are kept. >= 1.
    traces_retention_days: int = Field(default=7, ge=1)
    # Days metric windows are kept. >= 1.
    metrics_retention_days: int = Field(default=90, ge=1)
    # Days dead letters are kept in Elasticsearch; at least 14, like the dead-letter topic.
    deadletter_retention_days: int = Field(default=14, ge=14)
    # Roll the write index over when one primary shard reaches this size (e.g. 50gb; ILM only).
    rollover_max_primary_shard_size: str = Field(default="50gb", pattern=_SIZE)
    # Roll the write index over at this age (e.g. 1d, 12h; ILM only).
    rollover_max_age: str = Field(default="1d", pattern=_AGE)

    def retention_days(self, kind: str) -> int:
        """Retention of `kind` (logs, traces, metrics, deadletter)."""
        return int(getattr(self, f"{kind}_retention_days"))
