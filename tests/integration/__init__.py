"""Integration tests against the real local Kafka and Elasticsearch (see conftest.py)."""
