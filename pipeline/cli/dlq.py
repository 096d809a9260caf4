"""`logtrace dlq replay [--reason R] [--since T] [--dry-run]`: re-feed dead letters after a fix."""

import asyncio
from datetime import datetime

import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from elasticsearch import ApiError
from rich.console import Console

from pipeline.cli._app import app
from pipeline.config.elasticsearch import ElasticsearchSettings
from pipeline.config.kafka import KafkaSettings
from pipeline.config.sink import SinkSettings
from pipeline.sink.bulk import ElasticsearchSink
from pipeline.sink.deadletter import (
    ElasticsearchDeadLetterIndexer,
    KafkaDeadLetterWriter,
    deadletter_producer,
)
from pipeline.sink.replay import ReplayReport, parse_since, replay, topic_partitions

console = Console(soft_wrap=True)
dlq_app = typer.Typer(no_args_is_help=True, help="Inspect and replay dead letters.")
app.add_typer(dlq_app, name="dlq")


async def run_replay(
    kafka: KafkaSettings,
    es_settings: ElasticsearchSettings,
    sink_settings: SinkSettings,
    reason: str | None,
    since: datetime | None,
    dry_run: bool,
) -> ReplayReport:
    """Read the dead-letter topic once, to its end at start, and re-feed (dry: count) the selected letters."""
    consumer = AIOKafkaConsumer(**kafka.aiokafka_kwargs(), enable_auto_commit=False, group_id=None)
    await consumer.start()
    # aiokafka 0.14: stop() right after start() re-raises the cancellation of a task that never ran.
    await asyncio.sleep(0)
    producer: AIOKafkaProducer | None = None
    sink: ElasticsearchSink | None = None
    try:
        if not dry_run:
            producer = deadletter_producer(kafka.aiokafka_kwargs())
            await producer.start()
            es = es_settings.client()
            writer = KafkaDeadLetterWriter(
                producer,
                sink_settings.deadletter_topic,
                ElasticsearchDeadLetterIndexer(es, sink_settings.namespace),
                raw_topic=sink_settings.deadletter_raw_topic,
            )
            sink = ElasticsearchSink(sink_settings, es, writer)
        topic = sink_settings.deadletter_topic
        partitions = await topic_partitions(kafka.aiokafka_kwargs(), topic)
        return await replay(consumer, topic, partitions, sink, producer, reason, since)
    finally:
        await consumer.stop()
        if producer is not None:
            await producer.stop()
        if sink is not None:
            await sink.close()


@dlq_app.command("replay")
def replay_command(
    reason: str | None = typer.Option(None, "--reason", help="Only letters with this reason."),
    since: str | None = typer.Option(
        None, "--since", help="Only letters from this time on: ISO 8601, or 2h/30m/7d ago."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would be replayed; change nothing."),
) -> None:
    """Re-feed dead-lettered records under their original ids (a replay cannot duplicate)."""
    start = parse_since(since) if since else None
    try:
        report = asyncio.run(
            run_replay(KafkaSettings(), ElasticsearchSettings(), SinkSettings(), reason, start, dry_run)
        )
    except (KafkaError, ApiError) as exc:
        console.print(f"[bold red]replay failed:[/] {exc}")
        raise typer.Exit(1) from None
    prefix = "would replay" if dry_run else "replayed"
    console.print(
        f"{prefix} {report.selected} letters: {report.documents} documents to Elasticsearch, "
        f"{report.records} records to their source topics, {report.unreplayable} not replayable"
    )
    for why, count in sorted(report.by_reason.items()):
        console.print(f"  {why}: {count}")
    if not dry_run:
        console.print(
            f"indexed {report.indexed}, already there {report.duplicates}, "
            f"dead-lettered again {report.dead_lettered_again}"
        )
