"""Enrichment: small callables applied to each parsed document before it is routed and indexed.

- `timing.Timing`: event.ingested and logtrace.lag_ms; `timing.set_pipeline_ms` just before the sink.
- `kafka.kafka_coords`: logtrace.kafka.{topic,partition,offset,timestamp}.
- `service.ServiceBackfill`: service.name of a log from its trace's root span (or the topic default).
- `rules.TopicRules`: per-topic processing rules (drop, sample, rename, remove, set dataset/namespace).
"""
