# Benchmark of the backend (sourced by bin/bench): wrk against the release build,
# 64 connections, on /api/health-check and /api/activities/home with the seed data.
# shellcheck shell=bash
bench_app() {
  command -v wrk >/dev/null || { say "installing wrk (Debian package)"; apt-get update -qq; apt-get install -y -qq wrk >/dev/null; }
  say "building the backend (release)"
  cargo build --release --quiet -p cruddur-app --bins
  local dir port pid duration=${WRK_SECONDS:-30}
  dir=$(mktemp -d); port=$(free_port)
  (cd "$dir" && "$ROOT/target/release/app" seed >/dev/null)
  (cd "$dir" && PORT=$port exec "$ROOT/target/release/app" >/dev/null) &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/health-check" >/dev/null && break; sleep 0.05; done
  say "wrk: 2 threads, 64 connections, ${duration}s per endpoint, on this 2-core machine (wrk shares the cores)"
  for path in /api/health-check /api/activities/home; do
    local out rps p99
    out=$(wrk -t2 -c64 -d"${duration}s" --latency "http://127.0.0.1:$port$path")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    printf '%-28s %10s req/s   p99 %8s   errors: %s\n' "$path" "$rps" "$p99" \
      "$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr -s ' ' | paste -sd ';' || true)"
  done
  printf '%-28s %10s\n' "resident memory (peak)" "$(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)"
  printf '%-28s %10s\n' "resident memory (now)" "$(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}
