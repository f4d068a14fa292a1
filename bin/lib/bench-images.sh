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
  bench_real_builders "$C"
  cd "$ROOT"
}

# bench_images_real: only the real path (`bin/bench images-real`), with the tests'
# debug build of cruddur (no release compile first: cruddur's own share of a build,
# hashing the context, is printed beside it, and the minutes are docker's and cargo's).
# `buildkit-only` leaves out the classic builder's half.
bench_images_real() {
  prepare_images
  prepare_real_images
  local C="$ROOT/target/debug/cruddur"
  BENCH_WORK=$(mktemp -d /tmp/cruddur-bench-ws.XXXXXX)
  trap 'rm -rf "$BENCH_WORK"' EXIT
  (cd "$ROOT" && git ls-files -z | xargs -0 cp --parents -t "$BENCH_WORK")
  sed -i 's/^name = "cruddur"/name = "crudbench"/' "$BENCH_WORK/cruddur.toml"
  cd "$BENCH_WORK"
  bench_real_builders "$C" "${1:-}"
  cd "$ROOT"
}

# bench_real_builders CRUDDUR [buildkit-only]: the real build on BuildKit, then on
# the classic builder, in the workspace copy it runs in.
bench_real_builders() {
  bench_real_build "$1" buildkit
  [ "${2:-}" = buildkit-only ] && return 0
  # The classic builder refuses cache mounts and has no BUILDPLATFORM: the same
  # Dockerfiles without them, which is how they were before (the dependencies
  # compiled into a layer, for the engine's own platform).
  sed -i -E 's/--mount=[^ ]+ //; s/--platform=\$BUILDPLATFORM //' app/Dockerfile.prod frontend/Dockerfile.prod
  bench_real_build "$1" classic
}

# bench_real_build CRUDDUR BUILDER: the real path through `cruddur build --builder
# BUILDER`, compiled in the local builder image (empty PREBUILT_DIR). "Cold"
# invalidates the dependency step (a comment appended to Cargo.toml in the untimed
# setup) and empties BuildKit's cache mounts, so cargo compiles every dependency;
# the one-line change (the health check's "ver" in app/src/routes/ops.rs, a new
# number each run) and the one-page change leave the step cached; the Cargo.lock change
# adds or removes one small crate (static_assertions, no dependencies of its own)
# in app/Cargo.toml, so the dependency step runs again. Run from the workspace copy.
bench_real_build() {
  local C=$1 B=$2 spec; spec=$(mktemp)
  local real="env CRUDDUR_BUILDER_IMAGE=$BUILDER_IMAGE CRUDDUR_RUNTIME_IMAGE=$RUNTIME_BASE_IMAGE CRUDDUR_PREBUILT_DIR= CRUDDUR_BUILDER=$B"
  local cold="echo \"# cold \$(date +%s%N)\" >> Cargo.toml && docker builder prune -af --filter type=exec.cachemount >/dev/null"
  # (and a comment in Cargo.toml, so that no run has inputs an earlier one built: a
  # removal would otherwise bring back the image from before the addition, skipped)
  local lock="if grep -q '^static_assertions' app/Cargo.toml; then cargo remove -q -p cruddur-app static_assertions; else cargo add -q -p cruddur-app static_assertions@1.1; fi && echo \"# lock \$(date +%s%N)\" >> Cargo.toml"
  printf '%s\t%s\t%s\t%s\n' \
    "$B: cold build backend" "${RUNS_COLD:-1}" "$real $C build backend -q" "$cold" \
    "$B: one line under app changed, build backend" "${RUNS_CHANGED:-5}" "$real $C build backend -q" \
      "perl -pi -e 's/\"ver\": \\d+ \\}/\"ver\": \$\$ }/' app/src/routes/ops.rs" \
    "$B: Cargo.lock changed (a crate added or removed), build backend" "${RUNS_LOCK:-2}" "$real $C build backend -q" "$lock" \
    "$B: one page changed, build frontend" "${RUNS_CHANGED:-5}" "$real $C build frontend -q" \
      "echo \"/* \$(date +%s%N) */\" >> frontend/public/style.css" \
    > "$spec"
  printf '%s\t%s\t%s\n' "$B: cruddur's own share: build backend, inputs unchanged (skipped)" "${RUNS_CHANGED:-5}" \
    "$real $C build backend -q" >> "$spec"
  say "timing the real in-container build with the $B builder ($BUILDER_IMAGE, $RUNTIME_BASE_IMAGE)"
  "$VENV/bin/python" "$ROOT/bin/lib/timing.py" --spec "$spec" \
    "$B: one line under app changed, build backend/$B: cold build backend" \
    "$B: Cargo.lock changed (a crate added or removed), build backend/$B: cold build backend"
  rm -f "$spec"
}
