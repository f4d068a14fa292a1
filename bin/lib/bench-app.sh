# Benchmark of the backend (sourced by bin/bench): wrk against the release build,
# 64 connections, on /api/health-check and /api/activities/home with the seed data,
# with tracing off, then on (OTLP/HTTP to the test's receiver, app/tests/support/
# otlp_receiver.py --count, on the same two cores), in the same run.
# shellcheck shell=bash
bench_app() {
  command -v wrk >/dev/null || { say "installing wrk (Debian package)"; apt-get update -qq; apt-get install -y -qq wrk >/dev/null; }
  say "building the backend (release)"
  cargo build --release --quiet -p cruddur-app --bins
  local target=${CARGO_TARGET_DIR:-$ROOT/target} dir duration=${WRK_SECONDS:-30}
  dir=$(mktemp -d)
  (cd "$dir" && "$target/release/app" seed >/dev/null)
  say "wrk: 2 threads, 64 connections, ${duration}s per endpoint, on this 2-core machine (wrk shares the cores)"
  echo "tracing off:"
  bench_app_run "$target" "$dir" "$duration"
  ensure_venv
  local receiver rport=""
  "$VENV/bin/python" "$ROOT/app/tests/support/otlp_receiver.py" --count >"$dir/receiver.out" 2>"$dir/receiver.err" &
  receiver=$!
  for _ in $(seq 1 100); do rport=$(awk '/^listening/ {print $2}' "$dir/receiver.out"); [ -n "$rport" ] && break; sleep 0.05; done
  echo "tracing on (OTLP/HTTP to the test receiver on 127.0.0.1:$rport):"
  OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$rport" OTEL_EXPORTER_OTLP_HEADERS="x-honeycomb-team=bench" \
    bench_app_run "$target" "$dir" "$duration"
  printf '%-28s %10s\n' "spans received" "$(curl -s "http://127.0.0.1:$rport/count")"
  kill "$receiver"; wait "$receiver" 2>/dev/null || true
  rm -rf "$dir"
}

# One app process, wrk on both endpoints, its memory; the environment passes through.
bench_app_run() {
  local target=$1 dir=$2 duration=$3 port pid
  port=$(free_port)
  (cd "$dir" && PORT=$port exec "$target/release/app" >/dev/null) &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/health-check" >/dev/null && break; sleep 0.05; done
  for path in /api/health-check /api/activities/home; do
    local out rps p99
    out=$(wrk -t2 -c64 -d"${duration}s" --latency "http://127.0.0.1:$port$path")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    printf '  %-26s %10s req/s   p99 %8s   errors: %s\n' "$path" "$rps" "$p99" \
      "$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr -s ' ' | paste -sd ';' || true)"
  done
  printf '  %-26s %10s\n' "resident memory (peak)" "$(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
