"""Data stream names: every name the sink writes to is built here and stays inside logtrace's prefixes.

Names follow the data stream naming scheme `<type>-<dataset>-<namespace>` with the dataset always
`logtrace.<something>`, so the index templates `logs-logtrace.*-*`, `traces-logtrace.*-*` and
`metrics-logtrace.*-*` match every one of them and nothing else. Dataset and namespace values may come
from events, so they are sanitized rather than trusted: lower-case ASCII letters, digits and `_` (plus
`.` inside a dataset), never `-` (it separates the parts), never a leading `.`/`_`, bounded length.
A value that sanitizes to nothing falls back to `generic` / `default`.
"""

import re
import unicodedata
from typing import Literal

Kind = Literal["logs", "traces", "metrics"]
KINDS: tuple[Kind, ...] = ("logs", "traces", "metrics")

# Every dataset is `logtrace.<segment>`; the templates match `<kind>-logtrace.*-*`.
DATASET_PREFIX = "logtrace."
# The naming scheme caps dataset and namespace at 100 characters each.
MAX_DATASET_CHARS = 100 - len(DATASET_PREFIX)
MAX_NAMESPACE_CHARS = 100
DEFAULT_DATASET = "generic"
DEFAULT_NAMESPACE = "default"

# Datasets the sink itself uses: an event-supplied dataset with one of these names must not land in
# the span, summary or dead-letter streams, so it is renamed with this suffix.
RESERVED_DATASETS: dict[Kind, frozenset[str]] = {
    "logs": frozenset({"deadletter"}),
    "traces": frozenset({"span", "summary"}),
    "metrics": frozenset(),
}
RESERVED_SUFFIX = "_event"

_NOT_ALLOWED = re.compile(r"[^a-z0-9_.]+")
_DOTS = re.compile(r"\.{2,}")


def sanitize_segment(
    value: object,
    *,
    allow_dots: bool = True,
    fallback: str = DEFAULT_DATASET,
    max_chars: int = MAX_DATASET_CHARS,
) -> str:
    """`value` as a safe dataset/namespace segment: `[a-z0-9_.]`, no leading/trailing `.`/`_`, bounded.

    Unicode is folded to ASCII where it has an ASCII base letter (`é` -> `e`); any other run of
    disallowed characters (including `-`, `*`, `,`, `/`, spaces) becomes one `_`.
    """
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii").lower()
    text = _NOT_ALLOWED.sub("_", text)
    if not allow_dots:
        text = text.replace(".", "_")
    text = _DOTS.sub(".", text)
    text = text[:max_chars].strip("._")
    return text or fallback


def sanitize_namespace(value: object) -> str:
    """A namespace segment: like a dataset but without dots (they would read as sub-datasets)."""
    return sanitize_segment(
        value, allow_dots=False, fallback=DEFAULT_NAMESPACE, max_chars=MAX_NAMESPACE_CHARS
    )


def _name(kind: Kind, dataset: str, namespace: str) -> str:
    return f"{kind}-{DATASET_PREFIX}{dataset}-{namespace}"


def data_stream(kind: Kind, dataset: str, namespace: str) -> str:
    """The data stream for an event of `kind`: always `<kind>-logtrace.<dataset>-<namespace>`."""
    if kind not in KINDS:
        raise ValueError(f"unknown data stream kind {kind!r}")
    # A dataset given as `logtrace.app` means `app`, not `logtrace.logtrace.app`.
    text = str(dataset)
    segment = sanitize_segment(
        text.removeprefix(DATASET_PREFIX) if text.lower().startswith(DATASET_PREFIX) else text
    )
    if segment in RESERVED_DATASETS[kind]:
        segment += RESERVED_SUFFIX
    return _name(kind, segment, sanitize_namespace(namespace))


def span_stream(namespace: str) -> str:
    """The stream of individual spans."""
    return _name("traces", "span", sanitize_namespace(namespace))


def summary_stream(namespace: str) -> str:
    """The stream of trace summaries (one document per closed trace)."""
    return _name("traces", "summary", sanitize_namespace(namespace))


def metrics_stream(kind: str, namespace: str) -> str:
    """The stream of one kind of metric windows (e.g. `service_latency`)."""
    return data_stream("metrics", kind, namespace)


def deadletter_stream(namespace: str) -> str:
    """The stream an SRE searches in Kibana for documents and records that could not be indexed."""
    return _name("logs", "deadletter", sanitize_namespace(namespace))


def is_ours(name: str) -> bool:
    """True when `name` is a data stream name this module could have produced."""
    kind, sep, rest = name.partition("-")
    if kind not in KINDS or not sep or not rest.startswith(DATASET_PREFIX):
        return False
    dataset, sep, namespace = rest[len(DATASET_PREFIX) :].partition("-")
    return (
        bool(sep)
        and sanitize_segment(dataset, fallback="") == dataset
        and sanitize_namespace(namespace) == namespace
        and namespace != ""
    )
