"""The index patterns logtrace reads back: one place for the Kibana data views and `logtrace trace`.

They follow the data stream names of pipeline.sink.routing (`<type>-logtrace.<dataset>-<namespace>`).
A leading `-` excludes, in Elasticsearch multi-target syntax and in Kibana data views alike: dead letters
are log documents but never part of a trace or of the log dashboards.
"""

DEADLETTERS = "logs-logtrace.deadletter-*"
LOGS = f"logs-logtrace.*,-{DEADLETTERS}"
SPANS = "traces-logtrace.span-*"
SUMMARIES = "traces-logtrace.summary-*"
METRICS = "metrics-logtrace.*"
# The trace search: every span and every log line, the two kinds of documents that carry trace.id.
TRACE = f"logs-logtrace.*,{SPANS},-{DEADLETTERS}"

