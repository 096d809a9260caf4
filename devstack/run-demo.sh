#!/usr/bin/env bash
# `make run`'s main job after the stack is up and templates are installed: start one worker in the
# background (left running; `make down` stops it), feed it demo traffic, wait until a demo trace is
# searchable, and print how to look it up.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
STATE=${LOGTRACE_DEV_STATE_DIR:-/var/tmp/logtrace-devstack}
PIDFILE="$STATE/worker.pid"
LOG="$STATE/worker.log"
PORT=${LOGTRACE_WEB_PORT:-6066}
# Short idle time so the demo's trace summaries appear within seconds (production default: 30 s).
export LOGTRACE_TRACE_IDLE_S=${LOGTRACE_TRACE_IDLE_S:-5}
export LOGTRACE_METRIC_WINDOW_S=${LOGTRACE_METRIC_WINDOW_S:-10}
# Log pattern mining on for the demo's raw topic (off by default: it costs ~55 µs per line).
export LOGTRACE_RAW_TOPICS=${LOGTRACE_RAW_TOPICS:-'[{"topic": "app-logs", "patterns": true}]'}

if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "worker already running (pid $(cat "$PIDFILE")), log: $LOG"
else
  nohup "$BIN/logtrace" worker >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  echo "worker started (pid $(cat "$PIDFILE")), log: $LOG"
fi

for _ in $(seq 1 90); do
  if curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "the worker exited; last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2; exit 1
  fi
  sleep 1
done
curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null || { echo "worker not ready after 90 s; see $LOG" >&2; exit 1; }

out=$("$BIN/logtrace" demo --traces 40 --rate 20)
echo "$out"
trace=$(grep -o 'trace.id:[0-9a-f]\{32\}' <<<"$out" | head -n 1 | cut -d: -f2)

echo "waiting for trace $trace to be searchable ..."
for _ in $(seq 1 60); do
  if "$BIN/logtrace" trace "$trace" >/dev/null 2>&1; then
    "$BIN/logtrace" trace "$trace"
    cat <<MSG

Look a trace up:
  $BIN/logtrace trace $trace            # waterfall in the terminal
  $BIN/logtrace link $trace             # Kibana Discover URL
  curl -s 'http://127.0.0.1:9200/logs-logtrace.*,traces-logtrace.*/_search?q=trace.id:$trace&pretty'
Worker metrics: http://127.0.0.1:$PORT/metrics   Stop everything: make down
MSG
    exit 0
  fi
  sleep 2
done
echo "trace $trace not found within 120 s; see $LOG" >&2
exit 1
