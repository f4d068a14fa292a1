# bench_scale: how the cost of cruddur's commands grows with the number of services
# (issue 27). For each size N in SCALE_SIZES (default "2 10 40"), a project made by
# `cruddur init`: N - N/4 web services (ports 8001 on), each on its own host under example.com, and
# N/4 workers, every one with an image given in cruddur.toml. Against moto behind
# the proxy that holds every call LATENCY_MS (default 50): `up` from empty, timed
# once (the certificate is issued at once here, MOTO_ACM_VALIDATION_WAIT=0, so no
# certificate wait is in it); then `plan` and `up` with nothing to change and
# `deploy --all --no-build --no-wait`, timed (medians of RUNS, default 3); then each
# one's calls and longest chain of calls made one after another (the call recorder).
# The proxy enforces ELB's published Describe rate (40 tokens, 10 a second; see
# tests/support/throttle.py) and the chain lines say how many calls it throttled.
# Commands run back to back, so each finds the bucket as the one before left it; the
# "bucket refilled first" row waits 4 s (untimed) before each run, as between a
# user's commands: a 40-service plan makes 38 ELB Describe calls.
# shellcheck shell=bash
bench_scale() {
  bench_binary
  local c=$BENCH_CRUDDUR ms=${LATENCY_MS:-50} n
  for n in ${SCALE_SIZES:-2 10 40}; do
    bench_scale_one "$c" "$ms" "$n"
  done
}

# bench_scale_project CRUDDUR DIR N: the generated project (init writes the domain
# line commented out, gives web01 the domain and every other web service a host).
bench_scale_project() {
  local c=$1 dir=$2 n=$3 workers web i args=()
  workers=$((n / 4))
  web=$((n - workers))
  for i in $(seq 1 "$web"); do args+=(--service "$(printf 'web%02d:%d' "$i" $((8000 + i)))"); done
  for i in $(seq 1 "$workers"); do args+=(--service "$(printf 'job%02d' "$i")"); done
  "$c" init --dir "$dir" --name "scale$n" "${args[@]}" >/dev/null
  python3 - "$dir/cruddur.toml" <<'EOF'
import re, sys
path = sys.argv[1]
text = open(path).read()
text = re.sub(r'(?m)^# domain = .*$', 'domain = "example.com"', text, count=1)
def table(m):
    return m.group(0) + f'image = "registry.example.com/scale/{m.group(1)}:v1"\n'
text = re.sub(r'(?m)^\[services\.([a-z0-9]+)\]\n', table, text)
open(path, "w").write(text)
EOF
}

bench_scale_one() {
  local c=$1 ms=$2 n=$3 dir spec start
  dir=$(mktemp -d)
  bench_scale_project "$c" "$dir" "$n"
  echo '[{"behaviour": "throttle", "buckets": [{"service": "elasticloadbalancing", "prefix": "Describe", "capacity": 40, "refill": 10}]}]' >"$dir/rules.json"
  unset MOTO_LOG  # each size has a moto, and a log, of its own
  MOTO_RULES="$dir/rules.json" MOTO_ACM_VALIDATION_WAIT=0 MOTO_LATENCY_MS=$ms start_moto
  trap stop_moto EXIT
  moto_env
  "$VENV/bin/aws" route53 create-hosted-zone --name example.com --caller-reference "scale$n" >/dev/null
  say "$n services ($((n - n / 4)) web on their own hosts, $((n / 4)) workers), ${ms} ms a call"
  start=$(date +%s%N)
  (cd "$dir" && "$c" up >/dev/null 2>"$dir/up.err") || { tail -n 20 "$dir/up.err" >&2; return 1; }
  printf '%-52s %8.1f ms   (once)\n' "$n services: up from empty" "$((($(date +%s%N) - start) / 100000))e-1"
  spec=$(mktemp)
  # NAME, RUNS, COMMAND, and a setup run untimed before each run (timing.py).
  printf '%s\t%s\t%s\t%s\n' \
    "$n services: plan (nothing to change)" "${RUNS:-3}" "cd $dir && $c plan" "" \
    "$n services: plan, ELB's bucket refilled first" "${RUNS:-3}" "cd $dir && $c plan" "sleep 4" \
    "$n services: up (nothing to change)" "${RUNS:-3}" "cd $dir && $c up" "" \
    "$n services: deploy --all --no-build --no-wait" "${RUNS:-3}" "cd $dir && $c deploy --all --no-build --no-wait" "" \
    >"$spec"
  "$VENV/bin/python" bin/lib/timing.py --spec "$spec"
  rm -f "$spec"
  (cd "$dir" && call_chain "$n services: plan" "$c" plan \
    && call_chain "$n services: up (nothing to change)" "$c" up \
    && call_chain "$n services: deploy --all --no-wait" "$c" deploy --all --no-build --no-wait)
  stop_moto
  trap - EXIT
  rm -rf "$dir"
}
