# Shared by bin/* scripts: paths, the test venv and a moto server.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${CRUDDUR_TEST_VENV:-$ROOT/.venv}
# Pinned: the measured fidelity in shared/reference is for these versions.
PY_PACKAGES=("moto[server]==5.2.5" "boto3==1.44.5" "botocore==1.44.5" "awscli==1.46.3" "schemathesis==4.32.5"
             "opentelemetry-proto==1.45.2" "protobuf==7.36.2")

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_venv() {
  if [ -x "$VENV/bin/moto_server" ] && [ -x "$VENV/bin/aws" ] && [ -f "$VENV/.pinned" ] \
     && [ "$(cat "$VENV/.pinned")" = "${PY_PACKAGES[*]}" ]; then
    return
  fi
  say "creating the test venv at $VENV (moto, boto3, aws CLI, schemathesis, opentelemetry-proto)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
  echo "${PY_PACKAGES[*]}" > "$VENV/.pinned"
}

# The pyssm-client cross-check (tests/connect_native.rs) needs Python >= 3.12, in
# its own venv. Without such a Python that one test is skipped and says so.
SSM_VENV=${CRUDDUR_SSM_VENV:-$ROOT/.venv-ssm}
SSM_PACKAGES=("pyssm-client==0.2.0" "websockets==17.4" "click==8.5.1" "boto3==1.44.5" "botocore==1.44.5")

python_312() {
  local py
  for py in python3.14 python3.13 python3.12 "$(pyenv root 2>/dev/null)"/versions/3.1[2-9]*/bin/python \
            "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python python3; do
    command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  return 1
}

ensure_ssm_venv() {
  if [ -x "$SSM_VENV/bin/pyssm" ] && [ "$(cat "$SSM_VENV/.pinned" 2>/dev/null)" = "${SSM_PACKAGES[*]}" ]; then
    export CRUDDUR_SSM_VENV=$SSM_VENV; return
  fi
  local py
  if ! py=$(python_312); then
    say "no Python >= 3.12 found: the pyssm-client cross-check will be SKIPPED"
    return
  fi
  say "creating $SSM_VENV with $py (pyssm-client)"
  "$py" -m venv "$SSM_VENV"
  "$SSM_VENV/bin/pip" install --quiet --disable-pip-version-check "${SSM_PACKAGES[@]}"
  echo "${SSM_PACKAGES[*]}" > "$SSM_VENV/.pinned"
  export CRUDDUR_SSM_VENV=$SSM_VENV
}

ensure_rust() {
  command -v cargo >/dev/null || { echo "cargo is missing: install Rust from rustup" >&2; exit 1; }
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_moto: starts moto on a loopback port the OS picks (tests/support/aws_server.py
# binds port 0 and prints it, so no other process can take the port first); sets
# MOTO_URL, MOTO_PID and MOTO_LOG (its output, kept; its tail is shown if it fails).
# With MOTO_LATENCY_MS, the proxy records every call in MOTO_CALLS (call_chains reads it).
start_moto() {
  MOTO_DIR=$(mktemp -d /tmp/cruddur-moto.XXXXXX)
  MOTO_LOG=${MOTO_LOG:-$MOTO_DIR/moto.log}
  MOTO_ECS_SERVICE_RUNNING=1 MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ACM_VALIDATION_WAIT=${MOTO_ACM_VALIDATION_WAIT:-2} \
    "$VENV/bin/python" "$ROOT/tests/support/aws_server.py" --until-killed ${MOTO_LATENCY_MS:+--latency-ms "$MOTO_LATENCY_MS"} ${MOTO_RULES:+--rules "$MOTO_RULES"} \
    ${MOTO_LATENCY_MS:+--log "$MOTO_DIR/calls.jsonl"} >"$MOTO_DIR/ready" 2>"$MOTO_LOG" </dev/null &
  MOTO_PID=$!
  local port=""
  for _ in $(seq 1 600); do
    port=$(sed -n 's/.*"moto": \([0-9]*\).*/\1/p' "$MOTO_DIR/ready" 2>/dev/null)
    [ -n "$port" ] && break
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "moto did not start; the end of its log ($MOTO_LOG):" >&2
    tail -n 40 "$MOTO_LOG" >&2
    exit 1
  fi
  MOTO_URL="http://127.0.0.1:$port"
  # With MOTO_LATENCY_MS, every call goes through the proxy that holds it that long.
  if [ -n "${MOTO_LATENCY_MS:-}" ]; then
    MOTO_URL="http://127.0.0.1:$(sed -n 's/.*"proxy": \([0-9]*\).*/\1/p' "$MOTO_DIR/ready")"
    MOTO_CALLS=$MOTO_DIR/calls.jsonl
  fi
}

# call_chain NAME COMMAND...: runs the command once against the recording proxy and
# prints its calls, the longest chain of calls made one after another, and that
# chain's calls by name (tests/support/call_chain.py).
call_chain() {
  local name=$1 mark
  shift
  mark=0
  [ -f "$MOTO_CALLS" ] && mark=$(wc -l <"$MOTO_CALLS")
  "$@" >/dev/null 2>&1 || { echo "$name: \`$*\` failed" >&2; return 1; }
  printf '%-44s %s\n' "$name" "$("$VENV/bin/python" "$ROOT/tests/support/call_chain.py" "$MOTO_CALLS" --from "$mark")"
}

# wait_for_port PORT NAME: up to 15 s for something to listen on the loopback port.
wait_for_port() {
  for _ in $(seq 1 150); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; then return; fi
    sleep 0.1
  done
  echo "$2 did not start on port $1" >&2; exit 1
}

# stop_moto: stops it; after a failure (called from an EXIT trap) its log is kept and its tail shown.
stop_moto() {
  local rc=$?
  [ -n "${MOTO_PID:-}" ] && kill "$MOTO_PID" 2>/dev/null; wait "$MOTO_PID" 2>/dev/null || true
  if [ "$rc" -ne 0 ] && [ -s "${MOTO_LOG:-}" ]; then
    echo "moto's log is kept at $MOTO_LOG; its last lines:" >&2
    tail -n 20 "$MOTO_LOG" >&2
  elif [ -n "${MOTO_DIR:-}" ]; then
    rm -rf "$MOTO_DIR"
  fi
  return 0
}

# Environment for cruddur and the aws CLI against the local moto (never real AWS).
moto_env() {
  export AWS_ENDPOINT_URL=$MOTO_URL AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  unset AWS_PROFILE AWS_SESSION_TOKEN
}

# ensure_postgres: Debian's PostgreSQL server, installed when missing.
ensure_postgres() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    say "installing PostgreSQL (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  command -v psql >/dev/null || { apt-get install -y -qq postgresql-client >/dev/null; }
}

# start_postgres: a throw-away cluster on a free loopback port; sets PG_URL.
start_postgres() {
  ensure_postgres
  PG_DIR=$(mktemp -d /tmp/cruddur-pg.XXXXXX)
  local port; port=$(free_port)
  local as=()
  if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; as=(runuser -u postgres --); fi
  "${as[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
  "${as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  PG_AS=("${as[@]}")
}

stop_postgres() {
  if [ -n "${PG_DIR:-}" ]; then
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}

# bench_binary: BENCH_CRUDDUR, the cruddur the call-counting benchmarks time: the
# release build, or the binary BENCH_BIN names (the tests' debug build, say: the
# calls and chains are the same, the times are the debug build's).
bench_binary() {
  if [ -n "${BENCH_BIN:-}" ]; then
    BENCH_CRUDDUR=$(realpath "$BENCH_BIN")
    say "timing $BENCH_CRUDDUR (BENCH_BIN), not the release build"
    return
  fi
  say "building the release binary"
  cargo build --release --quiet --bin cruddur
  BENCH_CRUDDUR=$ROOT/target/release/cruddur
}
