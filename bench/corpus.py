"""Deterministic benchmark corpus: what a small shop sends to Kafka, sized by count.

- Spans: traces of `pipeline.demo` in chunks of 100 (so up to ~400 spans more than asked): frontend ->
  checkout -> inventory/payment -> bank, 3 or 5 spans per trace, multi-level trees, ~15 % failed
  payments, ~10 % slow inventory lookups; one OTLP proto `ExportTraceServiceRequest` per service per
  trace, keyed by trace id.
- Raw logs: first the services' own lines of those traces (JSON, logfmt, text with trace ids, nginx access
  lines), then filler lines of every raw format shaped like common runtimes (`bench.parsers_micro`:
  JSON app logs with trace ids, logfmt, RFC 5424/3164 syslog, access logs, Java/Python/nginx text).
- OTLP logs: a tenth of `logs` as `ExportLogsServiceRequest`s of `OTLP_LOGS_PER_REQUEST` records.

Same arguments, same bytes (timestamps are relative to `BASE_NS`, not to the clock).
"""

import random
from collections import Counter
from dataclasses import dataclass, field

from bench.otlp_micro import logs_request
from bench.parsers_micro import GENERATORS
from pipeline import demo

BASE_NS = 1_796_284_800_000_000_000  # 2026-12-03T00:00:00Z
OTLP_LOGS_SHARE = 10  # one log event in ten arrives as an OTLP log record
OTLP_LOGS_PER_REQUEST = 50
TRACES_PER_CHUNK = 100


@dataclass(slots=True)
class Corpus:
    """Kafka values per input kind, and how many documents each should become."""

    raw: list[bytes] = field(default_factory=list)
    # Format of each raw line (parallel to `raw`), for the per-format micro-benchmark.
    raw_formats: list[str] = field(default_factory=list)
    # (key = trace id, value = ExportTraceServiceRequest) records.
    spans: list[tuple[bytes, bytes]] = field(default_factory=list)
    otlp_logs: list[bytes] = field(default_factory=list)
    span_count: int = 0
    otlp_log_count: int = 0
    traces: int = 0
    error_spans: int = 0

    @property
    def documents(self) -> int:
        """Documents the pipeline indexes for the corpus (one per line, span and OTLP log record)."""
        return len(self.raw) + self.span_count + self.otlp_log_count

    @property
    def records(self) -> int:
        """Kafka records of the corpus."""
        return len(self.raw) + len(self.spans) + len(self.otlp_logs)

    def describe(self) -> dict[str, object]:
        """Counts for the results file."""
        return {
            "raw_lines": len(self.raw),
            "raw_formats": dict(sorted(Counter(self.raw_formats).items())),
            "spans": self.span_count,
            "span_requests": len(self.spans),
            "traces": self.traces,
            "error_spans": self.error_spans,
            "otlp_log_records": self.otlp_log_count,
            "otlp_log_requests": len(self.otlp_logs),
            "kafka_records": self.records,
            "kafka_bytes": sum(map(len, self.raw))
            + sum(len(value) for _, value in self.spans)
            + sum(map(len, self.otlp_logs)),
            "documents": self.documents,
        }


def _add_traces(corpus: Corpus, spans: int, seed: int) -> None:
    """Whole chunks of `TRACES_PER_CHUNK` demo traces until at least `spans` spans."""
    rng = random.Random(seed)
    start = BASE_NS
    while corpus.span_count < spans:
        batch = demo.generate(TRACES_PER_CHUNK, seed=rng.getrandbits(32), start_ns=start)
        start += TRACES_PER_CHUNK * 50 * demo.MS
        corpus.traces += len(batch.traces)
        corpus.span_count += sum(len(trace.spans) for trace in batch.traces)
        corpus.error_spans += sum(trace.error_spans for trace in batch.traces)
        corpus.spans.extend(batch.spans)
        corpus.raw.extend(batch.raw)
        corpus.raw_formats.extend(_demo_formats(batch))


def _demo_formats(batch: demo.DemoBatch) -> list[str]:
    """The format of each demo line, recognised by its first bytes (the demo writes one per service)."""
    formats = []
    for line in batch.raw:
        if line.startswith(b"{"):
            formats.append("json")
        elif line.startswith(b"time="):
            formats.append("logfmt")
        elif line[:1].isdigit() and b" - - [" in line[:30]:
            formats.append("access")
        else:
            formats.append("text")
    return formats


def generate(logs: int, spans: int, *, seed: int = 7) -> Corpus:
    """About `logs` log events (raw lines + OTLP log records) and `spans` spans; pure and seeded."""
    corpus = Corpus()
    _add_traces(corpus, spans, seed)
    otlp_records = logs // OTLP_LOGS_SHARE
    rng = random.Random(seed + 1)
    names = sorted(GENERATORS)
    while len(corpus.raw) < logs - otlp_records:
        name = names[len(corpus.raw) % len(names)]
        corpus.raw.append(GENERATORS[name](rng).encode())
        corpus.raw_formats.append(name)
    # A trace-heavy corpus can bring more demo lines than asked for; keep `logs` as the bound.
    del corpus.raw[max(logs - otlp_records, 0) :], corpus.raw_formats[max(logs - otlp_records, 0) :]
    request = logs_request(OTLP_LOGS_PER_REQUEST).SerializeToString()
    corpus.otlp_logs = [request] * (otlp_records // OTLP_LOGS_PER_REQUEST)
    corpus.otlp_log_count = len(corpus.otlp_logs) * OTLP_LOGS_PER_REQUEST
    return corpus
