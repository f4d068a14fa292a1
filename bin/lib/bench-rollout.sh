# bench_rollout: the shortest possible one-task rollout, computed (not measured:
# moto runs no tasks) from the documented ECS and ELBv2 timing rules and the
# settings cruddur really produces: `plan --output json` (target groups), `render`
# (task definition) and `render <service> service` (grace period) against moto.
bench_rollout() {
  say "building cruddur"
  # The tests' build (the same features), so nothing is compiled twice.
  cargo test -q --workspace --no-run
  local c="$ROOT/target/debug/cruddur" out
  out=$(mktemp -d)
  start_moto
  trap stop_moto EXIT
  moto_env
  export CONNECTION_URL=postgresql://bench:bench@db/cruddur ROLLBAR_ACCESS_TOKEN=bench OTEL_EXPORTER_OTLP_HEADERS=bench
  "$c" plan --output json > "$out/plan.json"
  "$c" up >/dev/null 2>&1
  local svc
  for svc in backend frontend; do
    "$c" render "$svc" > "$out/$svc.task-definition.json"
    "$c" render "$svc" service > "$out/$svc.service.json"
  done
  stop_moto
  trap - EXIT
  "$VENV/bin/python" bin/lib/rollout_model.py "$out" "$ROOT/cruddur.toml"
  rm -rf "$out"
}
