# Local stand-ins for what this machine cannot pull, for the image tests and demos:
#  - a base image (busybox + the host's glibc) that serves as both BUILDER_IMAGE and
#    RUNTIME_IMAGE of the Dockerfiles: `docker import` of a rootfs made here;
#  - host-built service binaries in .cruddur/prebuilt, for the Dockerfiles' PREBUILT_DIR;
#  - Debian's docker-registry, standing in for ECR.
# shellcheck shell=bash
BASE_IMAGE=cruddur-local/base:1
PREBUILT_DIR=.cruddur/prebuilt

ensure_image_tools() {
  local missing=()
  [ -x /bin/busybox ] || missing+=(busybox-static)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  # The package starts a registry on :5000 as a system service; the tests run their own.
  if command -v systemctl >/dev/null; then systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi
}

# prepare_prebuilt: the service binaries, built on the host and stripped.
prepare_prebuilt() {
  say "building the service binaries for the images (PREBUILT_DIR)"
  # The same build as the tests (cargo test also builds the bins), so nothing is built twice.
  cargo test -q --workspace --no-run
  mkdir -p "$ROOT/$PREBUILT_DIR"
  local bin
  for bin in app health-check frontend-server; do
    strip -o "$ROOT/$PREBUILT_DIR/$bin.tmp" "$ROOT/target/debug/$bin"
    # Replace only on change, so an unchanged binary keeps the build inputs' hash.
    if cmp -s "$ROOT/$PREBUILT_DIR/$bin.tmp" "$ROOT/$PREBUILT_DIR/$bin"; then rm "$ROOT/$PREBUILT_DIR/$bin.tmp";
    else mv "$ROOT/$PREBUILT_DIR/$bin.tmp" "$ROOT/$PREBUILT_DIR/$bin"; fi
  done
}

# ensure_base_image: busybox, the shared libraries the binaries need, a nonroot user.
ensure_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then return; fi
  say "creating the local base image $BASE_IMAGE (docker import of a busybox + glibc rootfs)"
  local rootfs; rootfs=$(mktemp -d /tmp/cruddur-rootfs.XXXXXX)
  mkdir -p "$rootfs"/{bin,etc,tmp,usr/local/bin,srv/www,home/nonroot}
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  local lib
  for lib in $(ldd "$ROOT/$PREBUILT_DIR"/* | grep -v ':$' | grep -o '/[^ ]*' | sort -u); do
    cp --parents -L "$lib" "$rootfs/"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:10001:10001:nonroot:/home/nonroot:/bin/sh\n' > "$rootfs/etc/passwd"
  printf 'root:x:0:\nnonroot:x:10001:\n' > "$rootfs/etc/group"
  chown 10001:10001 "$rootfs/home/nonroot"
  tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

# Environment that points cruddur.toml's build args at the local stand-ins.
image_env() {
  export CRUDDUR_BUILDER_IMAGE=$BASE_IMAGE CRUDDUR_RUNTIME_IMAGE=$BASE_IMAGE CRUDDUR_PREBUILT_DIR=$PREBUILT_DIR
}

prepare_images() {
  ensure_image_tools
  prepare_prebuilt
  ensure_base_image
  image_env
}

# start_registry: Debian's docker-registry on a free loopback port; sets REGISTRY.
start_registry() {
  REGISTRY_DIR=$(mktemp -d /tmp/cruddur-registry.XXXXXX)
  local port; port=$(free_port)
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$REGISTRY_DIR" "$port" > "$REGISTRY_DIR/config.yml"
  docker-registry serve "$REGISTRY_DIR/config.yml" >"$REGISTRY_DIR/log" 2>&1 &
  REGISTRY_PID=$!
  REGISTRY="127.0.0.1:$port"
  wait_for_port "$port" docker-registry
  # Whatever answered must be our registry, still running (not one that lost the port).
  kill -0 "$REGISTRY_PID" 2>/dev/null || { echo "docker-registry exited:" >&2; tail -n 20 "$REGISTRY_DIR/log" >&2; exit 1; }
}

stop_registry() {
  if [ -n "${REGISTRY_PID:-}" ]; then kill "$REGISTRY_PID" 2>/dev/null; wait "$REGISTRY_PID" 2>/dev/null || true; fi
  [ -n "${REGISTRY_DIR:-}" ] && rm -rf "$REGISTRY_DIR"
  return 0
}
