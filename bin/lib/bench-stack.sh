# bench_stack: `cruddur up`, `up` with nothing to change and `plan` against moto
# (release build). Each "from empty" run starts after `down --yes --all` and an
# untimed `plan` that warms moto's lazily loaded backends; no domain, so no ACM wait.
bench_stack() {
  say "building the release binary"
  cargo build --release --quiet --bin cruddur
  local c="$ROOT/target/release/cruddur" spec
  start_moto
  trap stop_moto EXIT
  moto_env
  export CONNECTION_URL=postgresql://bench:bench@db/cruddur ROLLBAR_ACCESS_TOKEN=bench OTEL_EXPORTER_OTLP_HEADERS=bench
  "$c" up >/dev/null 2>&1
  spec=$(mktemp)
  printf '%s\t%s\t%s\t%s\n' \
    "cruddur up (from empty, 21 resources)" "${RUNS:-15}" "$c up" "$c down --yes --all && $c plan" \
    > "$spec"
  printf '%s\t%s\t%s\n' \
    "cruddur up (nothing to change)" "${RUNS:-30}" "$c up" \
    "cruddur plan (full stack)" "${RUNS:-30}" "$c plan" \
    >> "$spec"
  say "timing up / plan against moto at $MOTO_URL (medians of whole-process runs)"
  "$VENV/bin/python" bin/lib/timing.py --spec "$spec"
  rm -f "$spec"
  stop_moto
  trap - EXIT
}
