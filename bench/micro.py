"""Micro part of `logtrace bench`: per-core rates on the corpus itself, CPU time of this process.

- parse: the worker's `auto` raw parser per format, next to bare `orjson.loads` + `orjson.dumps` of the
  same lines (`bench.parsers_micro`); OTLP `parse_traces` / `parse_logs` next to bare `ParseFromString`.
- map: the worker's whole pure path per input kind (decode -> enrich -> route -> encode, `bench.documents`)
  in worker-sized batches: the CPU a worker cannot avoid, per event, without Kafka, faust or the sink.
The documents `map` produced are returned too: ceiling B indexes exactly these.
"""

import itertools
import time
from collections import defaultdict

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from bench.corpus import Corpus
from bench.documents import Topics, chunks, encode_batches, records
from bench.parsers_micro import CTX, _baseline, _rates
from parsers.otlp import parse_logs, parse_traces
from parsers.raw import RAW_FORMATS

REPEAT = 3


def parse_rates(corpus: Corpus, per_format: int) -> list[dict]:
    """Lines/s (or spans/s, records/s) per core of the parsers and of their orjson/protobuf baselines."""
    by_format: dict[str, list[bytes]] = defaultdict(list)
    for line, name in zip(corpus.raw, corpus.raw_formats, strict=True):
        if len(by_format[name]) < per_format:
            by_format[name].append(line)
    auto = RAW_FORMATS["auto"]
    rows = []
    for name, lines in sorted(by_format.items()):
        parsed, baseline = _rates([lambda line: auto(line, CTX), _baseline], lines, REPEAT)
        rows.append(
            {
                "input": name,
                "events": len(lines),
                "parse_per_s": parsed,
                "baseline": "orjson loads+dumps",
                "baseline_per_s": baseline,
            }
        )
    per_request = max(1, corpus.span_count // max(len(corpus.spans), 1))
    requests = [value for _, value in corpus.spans[: per_format // per_request]]
    for name, values, parse, message, events in (
        (
            "otlp spans",
            requests,
            parse_traces,
            ExportTraceServiceRequest,
            corpus.span_count / max(len(corpus.spans), 1),
        ),
        (
            "otlp logs",
            corpus.otlp_logs[: per_format // 50 + 1],
            parse_logs,
            ExportLogsServiceRequest,
            corpus.otlp_log_count / max(len(corpus.otlp_logs), 1),
        ),
    ):
        if not values:
            continue
        parsed, baseline = _rates(
            [lambda raw, parse=parse: parse(raw, CTX), lambda raw, message=message: message.FromString(raw)],
            values,
            REPEAT,
        )
        rows.append(
            {
                "input": name,
                "events": round(len(values) * events),
                "parse_per_s": parsed * events,
                "baseline": "protobuf ParseFromString",
                "baseline_per_s": baseline * events,
            }
        )
    return rows


def map_documents(
    corpus: Corpus, topics: Topics, namespace: str, share: float
) -> tuple[list[dict], list[bytes]]:
    """CPU µs per event of the worker's pure path on `share` of each input kind, and its documents."""
    rows, docs = [], []
    for kind, total in (
        ("raw", len(corpus.raw)),
        ("spans", len(corpus.spans)),
        ("otlp_logs", len(corpus.otlp_logs)),
    ):
        count = max(1, round(total * share)) if total else 0
        sample = list(itertools.islice(records(corpus, topics, kind), count))
        started = time.process_time()
        encoded = encode_batches(chunks(iter(sample)), kind, namespace)
        cpu = time.process_time() - started
        docs.extend(encoded)
        if encoded:
            rows.append(
                {
                    "input": kind,
                    "records": len(sample),
                    "documents": len(encoded),
                    "cpu_us_per_document": cpu / len(encoded) * 1e6,
                    "documents_per_s": len(encoded) / max(cpu, 1e-9),
                }
            )
    return rows, docs
