"""Kafka coordinates of a document's source record, in the `logtrace.kafka.*` namespace."""

from parsers.result import Doc
from pipeline.enrich.timing import NS_PER_MS, ms_iso
from pipeline.sink.items import Source


def kafka_coords(doc: Doc, source: Source) -> Doc:
    """Set topic, partition, offset and (when the broker gave one) the record timestamp."""
    doc["logtrace.kafka.topic"] = source.topic
    doc["logtrace.kafka.partition"] = source.partition
    doc["logtrace.kafka.offset"] = source.offset
    if source.timestamp_ms is not None and source.timestamp_ms > 0:
        doc["logtrace.kafka.timestamp"] = ms_iso(source.timestamp_ms * NS_PER_MS)
    return doc
