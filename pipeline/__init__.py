"""logtrace pipeline: stream worker, enrichment, correlation, metrics, Elasticsearch sink and CLI."""
