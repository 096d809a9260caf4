"""The alerting tests reuse the integration suite's one dev stack (Kafka + Elasticsearch) fixture."""

from tests.integration.conftest import devstack  # noqa: F401  (the session fixture, shared by import)
