# bench_images: build and push times with the real Docker Engine and Debian's
# docker-registry on loopback (moto for the ECR calls), in a copy of the workspace.
# shellcheck shell=bash
bench_images() {
  prepare_images
  prepare_real_images
  say "building the release binary"
  cargo build --release --quiet --bin cruddur
  local C="$ROOT/target/release/cruddur"
  # Global: the EXIT trap runs after this function has returned.
  BENCH_WORK=$(mktemp -d /tmp/cruddur-bench-ws.XXXXXX)
  local work=$BENCH_WORK
  (cd "$ROOT" && git ls-files -z | xargs -0 cp --parents -t "$work" && cp -a --parents "$PREBUILT_DIR" "$work")
  sed -i 's/^name = "cruddur"/name = "cruddurbench"/' "$work/cruddur.toml"
  # A file no earlier run had: the inputs hash differs, so "first" builds and the
  # changed-page runs really build and push (an identical context would be skipped).
  local nonce; nonce=$(date +%s%N)
  echo "$nonce" > "$work/bench-nonce.txt"
  start_registry
  start_moto
  trap 'stop_registry; stop_moto; rm -rf "$BENCH_WORK"' EXIT
  moto_env
  local R=$REGISTRY
  cd "$work"
  local spec; spec=$(mktemp)
  printf '%s\t%s\t%s\n' \
    "first build --all (engine layer cache as it is)" 1 "$C build --all -q" \
    "first push --all (empty registry)" 1 "$C push --all --registry $R" \
    "unchanged: build --all + push --all" "${RUNS:-20}" "$C build --all -q && $C push --all --registry $R" \
    "unchanged: build backend" "${RUNS:-20}" "$C build backend -q" \
    "one page changed: build frontend + push frontend" "${RUNS_CHANGED:-5}" \
      "echo '/* $nonce {i} */' >> frontend/public/style.css && $C build frontend -q && $C push frontend --registry $R" \
    > "$spec"
  say "timing (medians of whole-process runs)"
  "$VENV/bin/python" "$ROOT/bin/lib/timing.py" --spec "$spec"
  rm -f "$spec"
  bench_real_build "$C"
  cd "$ROOT"
}

# bench_real_build CRUDDUR: the real path, compiled in the local builder image
# (empty PREBUILT_DIR). "Cold" invalidates the dependency layer (a comment appended
# to Cargo.toml in the untimed setup), so cargo compiles every dependency; the
# one-line and one-page changes leave it cached. Run from the workspace copy.
bench_real_build() {
  local C=$1 spec; spec=$(mktemp)
  local real="env CRUDDUR_BUILDER_IMAGE=$BUILDER_IMAGE CRUDDUR_RUNTIME_IMAGE=$RUNTIME_BASE_IMAGE CRUDDUR_PREBUILT_DIR="
  local cold="echo \"# cold \$(date +%s%N)\" >> Cargo.toml"
  printf '%s\t%s\t%s\t%s\n' \
    "real: cold build backend" "${RUNS_COLD:-3}" "$real $C build backend -q" "$cold" \
    "real: cold build frontend" "${RUNS_COLD:-3}" "$real $C build frontend -q" "$cold" \
    "real: one line under app changed, build backend" "${RUNS_CHANGED:-5}" "$real $C build backend -q" \
      "echo \"// \$(date +%s%N)\" >> app/src/lib.rs" \
    "real: one page changed, build frontend" "${RUNS_CHANGED:-5}" "$real $C build frontend -q" \
      "echo \"/* \$(date +%s%N) */\" >> frontend/public/style.css" \
    > "$spec"
  say "timing the real in-container build ($BUILDER_IMAGE, $RUNTIME_BASE_IMAGE)"
  "$VENV/bin/python" "$ROOT/bin/lib/timing.py" --spec "$spec" \
    "real: one line under app changed, build backend/real: cold build backend"
  rm -f "$spec"
}
