# bench_latency: the same commands at a real region's round trip. moto answers a
# call in about 4 ms on loopback; a real region takes 20-100 ms, so what counts is
# how many calls run one after another. The proxy in front of moto holds every call
# LATENCY_MS (default 50) before answering (tests/support/aws_server.py
# --latency-ms); concurrent calls wait concurrently, as they would against AWS.
# Timed against it, in one run: `up` and `plan` with nothing to change,
# `deploy --no-wait`, `status backend`, and the old scripts' aws CLI register + update-service; then
# each command's calls and its longest chain of calls one after another, by name.
bench_latency() {
  bench_binary
  local c=$BENCH_CRUDDUR aws="$VENV/bin/aws" spec ms=${LATENCY_MS:-50}
  MOTO_LATENCY_MS=$ms start_moto
  trap stop_moto EXIT
  moto_env
  export CONNECTION_URL=postgresql://bench:bench@db/cruddur ROLLBAR_ACCESS_TOKEN=bench OTEL_EXPORTER_OTLP_HEADERS=bench
  "$c" up >/dev/null 2>&1
  "$c" render backend > target/bench-td.json
  spec=$(mktemp)
  printf '%s\t%s\t%s\n' \
    "cruddur up (nothing to change), ${ms} ms a call" "${RUNS:-10}" "$c up" \
    "cruddur plan (full stack), ${ms} ms a call" "${RUNS:-10}" "$c plan" \
    "cruddur deploy --no-wait, ${ms} ms a call" "${RUNS:-10}" "$c deploy backend --image img:{i} --no-wait" \
    "cruddur status backend, ${ms} ms a call" "${RUNS:-10}" "$c status backend" \
    "aws CLI register + update-service, ${ms} ms a call" "${RUNS_CLI:-10}" \
      "$aws ecs register-task-definition --cli-input-json file://target/bench-td.json && $aws ecs update-service --cluster cruddur --service backend-flask --task-definition backend-flask --force-new-deployment" \
    > "$spec"
  say "timing against moto behind a ${ms} ms proxy at $MOTO_URL (medians of whole-process runs)"
  "$VENV/bin/python" bin/lib/timing.py --spec "$spec" \
    "aws CLI register + update-service, ${ms} ms a call/cruddur deploy --no-wait, ${ms} ms a call"
  rm -f "$spec"
  say "the calls of each command, and the longest chain of calls made one after another (the call recorder)"
  call_chain "cruddur up (nothing to change)" "$c" up
  call_chain "cruddur plan" "$c" plan
  call_chain "cruddur deploy --no-wait" "$c" deploy backend --image img:chain --no-wait
  call_chain "cruddur status backend" "$c" status backend
  stop_moto
  trap - EXIT
}
