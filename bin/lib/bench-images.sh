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
  sed -i 's/^name = "cruddur"/name = "crudbench"/' "$work/cruddur.toml"
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
  bench_buildkit
  cd "$ROOT"
}

# bench_images_real: only the real path (`bin/bench images-real`), with the tests'
# debug build of cruddur (no release compile first: cruddur's own share of a build,
# hashing the context, is printed beside it, and the minutes are docker's and cargo's).
bench_images_real() {
  prepare_images
  prepare_real_images
  local C="$ROOT/target/debug/cruddur"
  BENCH_WORK=$(mktemp -d /tmp/cruddur-bench-ws.XXXXXX)
  trap 'rm -rf "$BENCH_WORK"' EXIT
  (cd "$ROOT" && git ls-files -z | xargs -0 cp --parents -t "$BENCH_WORK")
  sed -i 's/^name = "cruddur"/name = "crudbench"/' "$BENCH_WORK/cruddur.toml"
  cd "$BENCH_WORK"
  [ "${1:-}" = buildkit-only ] || bench_real_build "$C"
  bench_buildkit
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
  printf '%s\t%s\t%s\n' "cruddur's own share: build backend, inputs unchanged (skipped)" "${RUNS_CHANGED:-5}" \
    "$real $C build backend -q" >> "$spec"
  say "timing the real in-container build ($BUILDER_IMAGE, $RUNTIME_BASE_IMAGE)"
  "$VENV/bin/python" "$ROOT/bin/lib/timing.py" --spec "$spec" \
    "real: one line under app changed, build backend/real: cold build backend"
  rm -f "$spec"
}

# bench_buildkit: the same layer reuse under BuildKit (this engine's embedded one,
# through buildx's docker driver; cruddur itself talks to the classic
# builder). A cold build of app/Dockerfile.prod (dependency layer invalidated), then
# RUNS_CHANGED rebuilds after a one-line change under app/src/; each rebuild's log
# must show the dependency step CACHED. Run from the workspace copy.
bench_buildkit() {
  command -v docker >/dev/null || { say "no docker CLI: BuildKit part skipped"; return 0; }
  # shellcheck source=bin/lib/buildx.sh
  source "$ROOT/bin/lib/buildx.sh"
  if ! ensure_buildx; then
    say "BuildKit part SKIPPED: no buildx (the docker CLI's BuildKit client) and none could be fetched"
    return 0
  fi
  local log; log=$(mktemp -d)
  local build="$BUILDX build --progress=plain --load --build-arg BUILDER_IMAGE=$BUILDER_IMAGE --build-arg RUNTIME_IMAGE=$RUNTIME_BASE_IMAGE --build-arg PREBUILT_DIR= -f app/Dockerfile.prod -t crudbench-buildkit ."
  local spec; spec=$(mktemp)
  printf '%s\t%s\t%s\t%s\n' \
    "buildkit: cold build backend" 1 "$build > $log/cold.log 2>&1" "echo \"# buildkit \$(date +%s%N)\" >> Cargo.toml" \
    "buildkit: one line under app changed, build backend" "${RUNS_CHANGED:-5}" "$build > $log/changed-{i}.log 2>&1" \
      "echo \"// \$(date +%s%N)\" >> app/src/lib.rs" \
    > "$spec"
  say "timing the real build under BuildKit ($BUILDX, $($BUILDX version | cut -d' ' -f2), the engine's own BuildKit)"
  "$VENV/bin/python" "$ROOT/bin/lib/timing.py" --spec "$spec" \
    "buildkit: one line under app changed, build backend/buildkit: cold build backend"
  local f step
  for f in "$log"/changed-*.log; do
    # The step that compiles the dependencies, and whether BuildKit reused it.
    # `#13 [build  7/10] RUN mkdir -p src ...` (buildx pads the step number).
    step=$(grep -m1 -o '^#[0-9]* \[build *[0-9/]*\] RUN mkdir -p src' "$f" | cut -d' ' -f1 || true)
    if [ -n "$step" ] && grep -q "^$step CACHED" "$f"; then
      echo "$(basename "$f" .log): dependency step $step CACHED; cargo compiled: $(grep -o 'Compiling [a-z_-]*' "$f" | sort -u | cut -d' ' -f2 | tr '\n' ' ')"
    else
      echo "$(basename "$f" .log): the dependency step was NOT reused:"; tail -20 "$f"
    fi
  done
  rm -rf "$log" "$spec"
  docker image rm -f crudbench-buildkit >/dev/null 2>&1 || true
}
