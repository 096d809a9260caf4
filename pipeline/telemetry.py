"""The worker's own metrics: the one module that owns the Prometheus registry and every family in it.

Pure code returns outcomes; the edges (worker, sink) count them here. Names follow Prometheus
conventions: units in the name, `_total` for counters, bounded label values only.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

# Buckets in seconds for request/commit latencies (bulk requests take 1 ms .. tens of seconds).
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
    """A counter registered on the logtrace registry."""
    return Counter(name, doc, labels, registry=REGISTRY)


def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
    """A gauge registered on the logtrace registry."""
    return Gauge(name, doc, labels, registry=REGISTRY)


def histogram(name: str, doc: str, labels: tuple[str, ...] = (), buckets: tuple[float, ...] = LATENCY_BUCKETS_S) -> Histogram:
    """A histogram registered on the logtrace registry."""
    return Histogram(name, doc, labels, registry=REGISTRY, buckets=buckets)
