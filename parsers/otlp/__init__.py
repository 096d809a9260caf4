"""OTLP traces and logs, as the OpenTelemetry Collector's Kafka exporter writes them, → ECS documents.

Sample input: one Kafka record holding a serialized ExportTraceServiceRequest (`otlp_proto`, topic
`otlp_spans`) or its OTLP/JSON form (`otlp_json`), e.g. `{"resourceSpans": [...]}`. Output: one
document per span / log record, a ParseError per span with a bad id, or one ParseError for the record.
"""

from collections.abc import Callable
from functools import partial

from google.protobuf.internal.decoder import _DecodeVarint
from google.protobuf.message import DecodeError

from parsers.context import ParseContext
from parsers.otlp.decode import ENCODINGS, LOGS, TRACES, Signal, decode
from parsers.otlp.logs import map_logs
from parsers.otlp.spans import map_spans
from parsers.result import Outcome, ParseError

Parser = Callable[[bytes, ParseContext], Outcome]
_Mapper = Callable[..., Outcome]


def _parse(signal: Signal, mapper: _Mapper, raw: bytes, ctx: ParseContext, encoding: str) -> Outcome:
    if not raw:
        return []
    request = decode(raw, signal, encoding, ctx.limits)
    return [request] if isinstance(request, ParseError) else mapper(request, ctx, encoding)


def parse_traces(raw: bytes, ctx: ParseContext, *, encoding: str = "otlp_proto") -> Outcome:
    """Documents for the spans of one ExportTraceServiceRequest (`encoding`: one of ENCODINGS)."""
    return _parse(TRACES, map_spans, raw, ctx, encoding)


def parse_logs(raw: bytes, ctx: ParseContext, *, encoding: str = "otlp_proto") -> Outcome:
    """Documents for the log records of one ExportLogsServiceRequest (`encoding`: one of ENCODINGS)."""
    return _parse(LOGS, map_logs, raw, ctx, encoding)


# signal → parser(raw, ctx, *, encoding): what `--signal traces|logs` selects.
SIGNALS: dict[str, Callable[..., Outcome]] = {"traces": parse_traces, "logs": parse_logs}
# signal → encoding → parser(raw, ctx): what a topic's (signal, encoding) setting selects.
OTLP_FORMATS: dict[str, dict[str, Parser]] = {
    signal: {encoding: partial(parse, encoding=encoding) for encoding in ENCODINGS}
    for signal, parse in SIGNALS.items()
}


def split_length_delimited(data: bytes) -> list[bytes]:
    """Split a stream of varint-length-prefixed messages (protobuf's delimited format) into messages.

    A truncated last message or a corrupt prefix ends the split: the remaining bytes come back as one
    last item, so decoding it yields an error result rather than the stream being lost silently.
    """
    messages: list[bytes] = []
    pos = 0
    while pos < len(data):
        try:
            # protobuf's own varint reader (its Python runtime exposes no public one).
            size, start = _DecodeVarint(data, pos)
        except (IndexError, DecodeError):
            messages.append(data[pos:])
            break
        end = start + size
        if end > len(data):
            messages.append(data[pos:])
            break
        messages.append(data[start:end])
        pos = end
    return messages


__all__ = [
    "ENCODINGS",
    "OTLP_FORMATS",
    "SIGNALS",
    "Parser",
    "parse_logs",
    "parse_traces",
    "split_length_delimited",
]
