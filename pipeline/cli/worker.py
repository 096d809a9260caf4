"""`logtrace worker`: run one stream worker (start several for more throughput: one consumer group).

Configuration is environment only: LOGTRACE_* (pipeline/config/worker.py), LOGTRACE_KAFKA_*,
LOGTRACE_ES_*, LOGTRACE_SINK_*. A bad value stops the worker before it connects, naming the variable.
"""

import asyncio
import contextlib
import logging
import os
import sys

import typer
from pydantic import ValidationError

from pipeline.cli._app import app

log = logging.getLogger("logtrace.worker")


def _settings_error(exc: ValidationError, prefix: str) -> str:
    lines = []
    for error in exc.errors():
        where = "_".join(str(part) for part in error["loc"]).upper()
        name = f"{prefix}{where}" if where else prefix.rstrip("_")
        lines.append(f"  {name}: {error['msg']}")
    return "\n".join(lines)


# LOGTRACE_* prefixes of other components (checked by their own commands).
OTHER_PREFIXES = (
    "LOGTRACE_DEV_",
    "LOGTRACE_LIFECYCLE_",
    "LOGTRACE_KIBANA_",
    "LOGTRACE_DEMO_",
    "LOGTRACE_BENCH_",
    "LOGTRACE_TEST_",
    "LOGTRACE_UPDATE_GOLDEN",
)


def unknown_variables(environ: dict[str, str], models: list[tuple[type, str]]) -> list[str]:
    """`NAME: unknown variable (did you mean ...?)` for each LOGTRACE_* variable no model reads.

    pydantic-settings ignores unknown variables of its prefix; a typo (LOGTRACE_TRACE_IDEL_S) would
    silently run with the default, so the worker refuses to start instead.
    """
    import difflib

    known = {f"{prefix}{name}".upper() for cls, prefix in models for name in cls.model_fields}
    problems = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith("LOGTRACE_") or upper in known or upper.startswith(OTHER_PREFIXES):
            continue
        close = difflib.get_close_matches(upper, sorted(known), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        problems.append(f"  {name}: unknown variable{hint}")
    return problems


async def ensure_topics(kafka: object, worker: object, sink: object) -> list[str]:
    """Create missing input topics (LOGTRACE_INTERNAL_PARTITIONS partitions) and the dead-letter topic.

    Returns the names of the topics created.

    Input topics normally exist already (the shippers create them); creating a missing one lets the
    worker subscribe at once instead of waiting for the next metadata refresh.
    """
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError, for_code

    from pipeline.config.kafka import KafkaSettings
    from pipeline.config.sink import SinkSettings
    from pipeline.config.worker import WorkerSettings
    from pipeline.sink.deadletter import MIN_RETENTION_DAYS

    assert isinstance(kafka, KafkaSettings) and isinstance(worker, WorkerSettings)
    assert isinstance(sink, SinkSettings)
    wanted = [topic.topic for topic in worker.raw_topics]
    wanted += [name for name in (worker.otlp_spans_topic, worker.otlp_logs_topic) if name]
    admin = AIOKafkaAdminClient(**kafka.aiokafka_kwargs())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [
            NewTopic(name, worker.internal_partitions, worker.internal_replication)
            for name in wanted
            if name not in existing
        ]
        if sink.deadletter_topic not in existing:
            retention_ms = max(sink.deadletter_retention_days, MIN_RETENTION_DAYS) * 24 * 3600 * 1000
            new.append(
                NewTopic(
                    sink.deadletter_topic,
                    3,
                    worker.internal_replication,
                    topic_configs={"retention.ms": str(retention_ms)},
                )
            )
        refused: list[str] = []
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):
                response = await admin.create_topics(new)
                # aiokafka does not raise for per-topic errors (e.g. 29, topic authorization failed):
                # without this check a refused topic would be reported as created.
                for entry in response.topic_errors:
                    topic, code = entry[0], entry[1]
                    if code not in (0, TopicAlreadyExistsError.errno):
                        refused.append(f"{topic}: {for_code(code).__name__} ({code})")
        if refused:
            raise RuntimeError(
                "Kafka refused to create missing topics (grant Create on them, or create them "
                f"beforehand): {'; '.join(refused)}"
            )
        if worker.partition_traces_by_id and worker.otlp_spans_topic:
            (described,) = await admin.describe_topics([worker.otlp_spans_topic])
            count = len(described.get("partitions", []))
            if count != worker.internal_partitions:
                raise ValueError(
                    f"LOGTRACE_PARTITION_TRACES_BY_ID needs LOGTRACE_INTERNAL_PARTITIONS={count} "
                    f"(the partitions of {worker.otlp_spans_topic}); it is {worker.internal_partitions}"
                )
        return [topic.name for topic in new]
    finally:
        await admin.close()


@app.command("worker")
def worker_command() -> None:
    """Run a stream worker: Kafka raw logs and OTLP -> parse, enrich, correlate, metrics -> Elasticsearch.

    Serves /metrics, /health and /ready on LOGTRACE_WEB_HOST:LOGTRACE_WEB_PORT (127.0.0.1:6066).
    """
    from pipeline.config.elasticsearch import ElasticsearchSettings
    from pipeline.config.kafka import KafkaSettings
    from pipeline.config.limits import LimitSettings
    from pipeline.config.sink import SinkSettings
    from pipeline.config.worker import WorkerSettings

    loaded = {}
    problems = []
    for key, cls, prefix in (
        ("worker", WorkerSettings, "LOGTRACE_"),
        ("kafka", KafkaSettings, "LOGTRACE_KAFKA_"),
        ("es", ElasticsearchSettings, "LOGTRACE_ES_"),
        ("sink", SinkSettings, "LOGTRACE_SINK_"),
        ("limits", LimitSettings, "LOGTRACE_LIMIT_"),
    ):
        try:
            loaded[key] = cls()
        except ValidationError as exc:
            problems.append(_settings_error(exc, prefix))
    problems += unknown_variables(
        dict(os.environ),
        [
            (WorkerSettings, "LOGTRACE_"),
            (KafkaSettings, "LOGTRACE_KAFKA_"),
            (ElasticsearchSettings, "LOGTRACE_ES_"),
            (SinkSettings, "LOGTRACE_SINK_"),
            (LimitSettings, "LOGTRACE_LIMIT_"),
        ],
    )
    if problems:
        typer.echo("logtrace worker: invalid configuration\n" + "\n".join(problems), err=True)
        raise typer.Exit(2)
    run_worker(loaded["worker"], loaded["kafka"], loaded["es"], loaded["sink"], loaded["limits"])


def run_worker(worker: object, kafka: object, es: object, sink: object, limits: object) -> None:
    """Build the faust app with every agent and run it until SIGTERM/SIGINT (or a fatal error)."""
    import faust
    from mode import Service

    from pipeline.app import create_app
    from pipeline.enrich.redact import configure_log_redaction
    from pipeline.logs import configure, logging_config
    from pipeline.worker import Runtime, install

    level = worker.log_level  # type: ignore[attr-defined]
    configure(level)
    try:
        created = asyncio.run(ensure_topics(kafka, worker, sink))
    except ValueError as exc:
        log.error("invalid configuration: %s", exc)
        sys.exit(2)
    except Exception as exc:
        log.error("cannot reach Kafka to check topics: %s", exc)
        sys.exit(1)
    log.info(
        "worker starting",
        extra={
            "fields": {
                "kafka": kafka.describe(),  # type: ignore[attr-defined]
                "topics.created": created,
                "raw_topics": [topic.topic for topic in worker.raw_topics],  # type: ignore[attr-defined]
                "web": f"{worker.web_host}:{worker.web_port}",  # type: ignore[attr-defined]
            }
        },
    )
    configure_log_redaction(worker.redact_keys, worker.redact_patterns)  # type: ignore[attr-defined]
    faust_app = create_app(worker, kafka)  # type: ignore[arg-type]
    bounds = limits.limits()  # type: ignore[attr-defined]
    runtime = Runtime(faust_app, worker, kafka, es, sink, bounds)  # type: ignore[arg-type]
    install(faust_app, runtime)

    @faust_app.service
    class _RuntimeCloser(Service):
        async def on_stop(self) -> None:
            await runtime.stop()

    faust.Worker(
        faust_app,
        loglevel=level,
        logging_config=logging_config(level),
        quiet=True,
        redirect_stdouts=False,
        override_logging=True,
    ).execute_from_commandline()
