# Benchmark of the backend (sourced by bin/bench): wrk against the release build,
# 64 connections, on /api/health-check and /api/activities/home with the seed data,
# with tracing off and on (OTLP/HTTP to the test's receiver, app/tests/support/
# otlp_receiver.py --count, on the same two cores), in the same run.
# Rounds alternate off and on (APP_ROUNDS, default 3; WRK_SECONDS per endpoint,
# default 10): this machine's throughput drifts by a third between minutes, so
# one off run then one on run measures the drift as much as the tracing. The
# summary is the median of each, and their ratio.
# shellcheck shell=bash
bench_app() {
  command -v wrk >/dev/null || { say "installing wrk (Debian package)"; apt-get update -qq; apt-get install -y -qq wrk >/dev/null; }
  say "building the backend (release)"
  cargo build --release --quiet -p cruddur-app --bins
  ensure_venv
  local target=${CARGO_TARGET_DIR:-$ROOT/target} dir duration=${WRK_SECONDS:-10} rounds=${APP_ROUNDS:-3}
  dir=$(mktemp -d)
  (cd "$dir" && "$target/release/app" seed >/dev/null)
  local receiver rport=""
  "$VENV/bin/python" "$ROOT/app/tests/support/otlp_receiver.py" --count >"$dir/receiver.out" 2>"$dir/receiver.err" &
  receiver=$!
  for _ in $(seq 1 100); do rport=$(awk '/^listening/ {print $2}' "$dir/receiver.out"); [ -n "$rport" ] && break; sleep 0.05; done
  [ -n "$rport" ] || { cat "$dir/receiver.err" >&2; echo "the OTLP receiver did not start" >&2; return 1; }
  say "wrk: 2 threads, 64 connections, ${duration}s per endpoint, $rounds rounds of tracing off then on (OTLP/HTTP to the test receiver on 127.0.0.1:$rport), on this 2-core machine (wrk and the receiver share the cores)"
  : >"$dir/results"
  local round
  for round in $(seq 1 "$rounds"); do
    echo "round $round, tracing off:"
    bench_app_run "$target" "$dir" "$duration" off
    echo "round $round, tracing on:"
    OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$rport" OTEL_EXPORTER_OTLP_HEADERS="x-honeycomb-team=bench" \
      bench_app_run "$target" "$dir" "$duration" on
  done
  printf '%-28s %10s\n' "spans received" "$(curl -s "http://127.0.0.1:$rport/count")"
  kill "$receiver"; wait "$receiver" 2>/dev/null || true
  echo "medians of $rounds rounds (req/s):"
  python3 - "$dir/results" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for path in dict.fromkeys(r[1] for r in rows):
    med = {m: statistics.median(float(r[2]) for r in rows if r[0] == m and r[1] == path) for m in ("off", "on")}
    print(f"  {path:<26} off {med['off']:10.0f}   on {med['on']:10.0f}   on/off {med['on'] / med['off']:.2f}")
EOF
  rm -rf "$dir"
}

# One app process, wrk on both endpoints, its memory; the environment passes through.
# Appends "MODE PATH REQ/S" lines to DIR/results.
bench_app_run() {
  local target=$1 dir=$2 duration=$3 mode=$4 port pid
  port=$(free_port)
  (cd "$dir" && PORT=$port exec "$target/release/app" >/dev/null) &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/health-check" >/dev/null && break; sleep 0.05; done
  for path in /api/health-check /api/activities/home; do
    local out rps p99
    out=$(wrk -t2 -c64 -d"${duration}s" --latency "http://127.0.0.1:$port$path")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    echo "$mode $path $rps" >>"$dir/results"
    printf '  %-26s %10s req/s   p99 %8s   errors: %s\n' "$path" "$rps" "$p99" \
      "$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr -s ' ' | paste -sd ';' || true)"
  done
  printf '  %-26s %10s\n' "resident memory (peak)" "$(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
